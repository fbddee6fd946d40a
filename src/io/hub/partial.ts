// Partial downloads of one blob. A broken-off transfer rests as blobs/<etag>.incomplete. A download
// claims it by renaming it to a name of its own (<etag>.<pid>.<random>.incomplete) before writing, so two
// processes never append to the same file: rename is atomic and only one of them gets it. A partial
// left behind by a process that died while holding it is claimed the same way.
import { randomBytes } from 'node:crypto';
import { readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isProcessRunning } from '../atomic-folder.js';

async function tryClaim(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Candidates to resume from, best first: the resting partial, then orphans of dead processes. */
async function candidates(restingPath: string): Promise<string[]> {
  const dir = dirname(restingPath);
  const prefix = basename(restingPath).slice(0, -'.incomplete'.length);
  const orphan = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-f]{8}\\.incomplete$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  const orphans = names.filter((n) => {
    const m = orphan.exec(n);
    return m !== null && Number(m[1]) !== process.pid && !isProcessRunning(Number(m[1]));
  });
  return [restingPath, ...orphans.map((n) => join(dir, n))];
}

export interface Partial {
  /** The file this download owns and appends to. */
  path: string;
  /** Bytes already in it. */
  size: number;
}

/** Takes over an existing partial of `restingPath` if there is one, else starts an empty one. */
export async function claimPartial(restingPath: string): Promise<Partial> {
  const own = `${restingPath.slice(0, -'.incomplete'.length)}.${process.pid}.${randomBytes(4).toString('hex')}.incomplete`;
  for (const c of await candidates(restingPath)) {
    if (await tryClaim(c, own)) return { path: own, size: (await stat(own)).size };
  }
  await writeFile(own, '');
  return { path: own, size: 0 };
}

/** Puts an unfinished partial back where the next download will find it. */
export async function releasePartial(p: Partial, restingPath: string): Promise<void> {
  await rename(p.path, restingPath);
}
