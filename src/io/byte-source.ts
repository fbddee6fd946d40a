// Random-access reads from a file (or an in-memory copy of one, for tests) without loading it
// whole: each read fills the caller's buffer from an absolute offset.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError } from './errors.js';

export type FormatErrorClass = new (file: string, key: string | undefined, detail: string) => FormatError;

export interface ByteSource {
  /** The file name used in error messages. */
  readonly name: string;
  readonly size: number;
  /** Fills `into` with the bytes at [offset, offset + into.length); throws when the source ends first. */
  read(offset: number, into: Uint8Array): void;
  close(): void;
}

// fs.readSync takes at most 2 GiB per call.
const MAX_READ = 1 << 30;

function systemMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class FileSource implements ByteSource {
  private fd: number | null;

  constructor(
    readonly name: string,
    fd: number,
    readonly size: number,
    private readonly error: FormatErrorClass,
  ) {
    this.fd = fd;
  }

  read(offset: number, into: Uint8Array): void {
    if (this.fd === null) throw new this.error(this.name, undefined, 'is closed');
    let done = 0;
    while (done < into.length) {
      const chunk = Math.min(into.length - done, MAX_READ);
      let got: number;
      try {
        got = readSync(this.fd, into, done, chunk, offset + done);
      } catch (err) {
        throw new this.error(this.name, undefined, `cannot read ${chunk} bytes at offset ${offset + done} (${systemMessage(err)})`);
      }
      if (got === 0) {
        throw new this.error(this.name, undefined, `ends at byte ${offset + done}; expected ${into.length - done} more bytes (was the file truncated?)`);
      }
      done += got;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Opens a regular file for reading; errors name the file and use `error` as their class. */
export function openFileSource(path: string, error: FormatErrorClass = FormatError): ByteSource {
  let fd: number;
  try {
    // Non-blocking, so that a FIFO is refused by the check below instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new error(path, undefined, `cannot open (${systemMessage(err)})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new error(path, undefined, 'is not a regular file');
    return new FileSource(path, fd, stat.size, error);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** A source over bytes already in memory, read through the same checks as a file. */
export function memorySource(bytes: Uint8Array, name: string, error: FormatErrorClass = FormatError): ByteSource {
  return {
    name,
    size: bytes.length,
    read(offset: number, into: Uint8Array): void {
      if (offset + into.length > bytes.length) {
        throw new error(name, undefined, `ends at byte ${bytes.length}; expected ${offset + into.length - bytes.length} more bytes (was the file truncated?)`);
      }
      into.set(bytes.subarray(offset, offset + into.length));
    },
    close(): void {},
  };
}
