// Writes of several files that readers never see half done. commitDirectory fills a temporary
// folder and renames it into place. commitFiles stages files in a temporary folder inside the
// target, marks the stage complete, then renames the files in one after another; a writer killed
// during those renames leaves a complete stage, which settleInterruptedWrites moves into place
// (every local load runs it), so the folder ends up holding the whole new set of files, never a
// mix of old and new.
//
// Every temporary name carries the writer's process id. settleInterruptedWrites leaves alone what
// a running process is writing and removes everything else that writers left behind: incomplete
// stages, commitDirectory's folders and writeFileAtomic's files.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Temporary names: commitDirectory's and commitFiles' folders, writeFileAtomic's files; group 1 is the writer's pid. */
const TEMPORARY = [/^\..+\.(?:tmp|old)-(\d+)-[0-9a-f]{8}$/, /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/];
const STAGE = /^\.files\.tmp-\d+-[0-9a-f]{8}$/;
/** Written into a stage once all its files are; from then on the stage may replace the folder's files. */
const COMPLETE_MARK = '.complete';

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

/** Whether a process of that id exists (it may belong to another user). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves each entry of `stage` but its mark into `dir`, replacing a file or folder of the same name.
 * An entry already gone was moved by another process finishing the same stage.
 */
function moveStagedEntries(stage: string, dir: string): void {
  for (const name of readdirSync(stage)) {
    if (name === COMPLETE_MARK) continue;
    const target = join(dir, name);
    if (statSync(target, { throwIfNoEntry: false })?.isDirectory()) rmSync(target, { recursive: true, force: true });
    try {
      renameSync(join(stage, name), target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  syncDirectory(dir);
}

/**
 * Finishes or clears what writers that are no longer running left in `dir`: a complete stage of
 * commitFiles is moved into place, any other temporary is removed.
 */
export function settleInterruptedWrites(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const writer = writerOf(name);
    if (writer === null || (writer !== process.pid && isProcessRunning(writer))) continue;
    const path = join(dir, name);
    if (STAGE.test(name) && existsSync(join(path, COMPLETE_MARK))) {
      try {
        moveStagedEntries(path, dir);
      } catch (err) {
        // Another process finished this stage and removed it while we read it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    rmSync(path, { recursive: true, force: true });
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
 * Writes files into `dir` through a stage folder inside it, then moves each into place (each move is
 * an atomic rename, replacing a file or folder of the same name). When `fill` throws, `dir` is left
 * as it was, and not created if it did not exist.
 */
export function commitFiles(dir: string, fill: (stage: string) => void): void {
  const firstCreated = mkdirSync(dir, { recursive: true });
  settleInterruptedWrites(dir);
  const stage = join(dir, `.files.tmp-${uniqueSuffix()}`);
  mkdirSync(stage);
  try {
    fill(stage);
    writeFileSync(join(stage, COMPLETE_MARK), '');
    syncDirectory(stage);
  } catch (err) {
    rmSync(firstCreated ?? stage, { recursive: true, force: true });
    throw err;
  }
  moveStagedEntries(stage, dir);
  rmSync(stage, { recursive: true, force: true });
}
