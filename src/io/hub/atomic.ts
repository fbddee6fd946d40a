// Atomic filesystem writes: build the entry under a unique temporary name beside its destination,
// then rename it into place, so readers see either nothing or the complete entry.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

function tempName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

async function commit(path: string, create: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    await create(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  return commit(path, (tmp) => writeFile(tmp, data));
}

/** Creates (or replaces) the symlink `path` pointing at `target`. */
export function symlinkAtomic(target: string, path: string): Promise<void> {
  return commit(path, (tmp) => symlink(target, tmp));
}
