// Writes of several files that readers never see half done. commitDirectory fills a temporary
// folder and renames it into place; commitFiles stages files in a temporary folder inside the
// target and renames them in one after another only once all are complete, so an interrupted save
// leaves the old set of files or the new one (or, killed between two renames, a mix for at most
// the time it takes to rename the rest), never a truncated file.
//
// Every temporary name carries the writer's process id. What a killed writer left behind (its
// folders here and writeFileAtomic's files) is removed by the next commitFiles into the same
// folder once that process is gone, and by removeTemporaries outright.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Temporary names: commitDirectory's and commitFiles' folders, writeFileAtomic's files; group 1 is the writer's pid. */
const TEMPORARY = [/^\..+\.(?:tmp|old)-(\d+)-[0-9a-f]{8}$/, /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/];

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The pid in a temporary name, or null for any other name. */
function writerOf(name: string): number | null {
  for (const re of TEMPORARY) {
    const match = re.exec(name);
    if (match !== null) return Number(match[1]);
  }
  return null;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes what interrupted saves left in `dir`: all of it, or with `deadWritersOnly` what no running process is writing. */
export function removeTemporaries(dir: string, options: { deadWritersOnly?: boolean } = {}): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const writer = writerOf(name);
    if (writer === null || (options.deadWritersOnly === true && writer !== process.pid && isRunning(writer))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Creates `parent/name` by filling a temporary folder and renaming it into place; an existing folder
 * of that name is replaced. Returns the folder's path.
 */
export function commitDirectory(parent: string, name: string, fill: (dir: string) => void): string {
  mkdirSync(parent, { recursive: true });
  const target = join(parent, name);
  const temp = join(parent, `.${name}.tmp-${uniqueSuffix()}`);
  mkdirSync(temp);
  try {
    fill(temp);
    syncDirectory(temp);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(target)) {
    const old = join(parent, `.${name}.old-${uniqueSuffix()}`);
    renameSync(target, old);
    renameSync(temp, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(temp, target);
  }
  syncDirectory(parent);
  return target;
}

/**
 * Writes files into `dir` through a temporary folder inside it, then moves each into place (each move
 * is an atomic rename, replacing a file or folder of the same name). When `fill` throws, `dir` is left as
 * it was, and not created if it did not exist.
 */
export function commitFiles(dir: string, fill: (temp: string) => void): void {
  const firstCreated = mkdirSync(dir, { recursive: true });
  removeTemporaries(dir, { deadWritersOnly: true });
  const temp = join(dir, `.files.tmp-${uniqueSuffix()}`);
  mkdirSync(temp);
  try {
    fill(temp);
  } catch (err) {
    rmSync(firstCreated ?? temp, { recursive: true, force: true });
    throw err;
  }
  try {
    for (const name of readdirSync(temp)) {
      const target = join(dir, name);
      if (statSync(target, { throwIfNoEntry: false })?.isDirectory()) rmSync(target, { recursive: true, force: true });
      renameSync(join(temp, name), target);
    }
    syncDirectory(dir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
