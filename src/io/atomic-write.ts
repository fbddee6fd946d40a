// Atomic file writes: the content goes to a temporary file in the target's directory, is flushed to
// disk, then renamed over the target, so readers never see a partly written file.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FormatErrorClass } from './byte-source.js';
import { FormatError } from './errors.js';

// fs.writeSync takes at most 2 GiB per call.
const MAX_WRITE = 1 << 30;

/** Writes all of `bytes` at the current position of `fd`. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, MAX_WRITE));
}

/** Runs `write(fd)` on a temporary file and renames it to `path` once complete. */
export function writeFileAtomic(path: string, write: (fd: number) => void, error: FormatErrorClass = FormatError): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx');
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, path);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(temp, { force: true });
    if (err instanceof FormatError) throw err;
    throw new error(path, undefined, `cannot write (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Atomically replaces `path` with UTF-8 `text`. */
export function writeTextAtomic(path: string, text: string): void {
  writeFileAtomic(path, (fd) => writeAll(fd, Buffer.from(text, 'utf8')));
}
