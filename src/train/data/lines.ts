// Streaming line reader: a file is read in chunks and split on '\n' ('\r\n' too), each line decoded
// as strict UTF-8 and numbered from 1, so readers built on it can name the line of every problem.
// A line may be long (a whole document on one JSONL line) but not unboundedly: past maxLineBytes it
// is an error rather than a string larger than the engine can hold.
import { createReadStream } from 'node:fs';
import { DataError } from './errors.js';

export interface Line {
  text: string;
  /** 1-based line number. */
  line: number;
  /** The line's terminator as it was in the file ('' for a last line without one). */
  eol: '' | '\n' | '\r\n';
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeLine(bytes: Uint8Array, file: string, line: number): string {
  try {
    const text = utf8.decode(bytes);
    return line === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text;
  } catch {
    throw new DataError(file, line, 'invalid UTF-8');
  }
}

/** The longest line readLines takes by default, in bytes (256 MiB). */
export const MAX_LINE_BYTES = 1 << 28;

export interface ReadLinesOptions {
  /** The longest line allowed, in bytes, its terminator not counted (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

/** The lines of a file, read as a stream. */
export async function* readLines(path: string, opts: ReadLinesOptions = {}): AsyncGenerator<Line> {
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  if (!(Number.isSafeInteger(maxLineBytes) && maxLineBytes > 0)) throw new TypeError(`readLines: maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  // The start of the current line: the chunks read since its beginning (each searched for '\n' once).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;
  const tooLong = (): DataError => new DataError(path, line + 1, `line longer than ${maxLineBytes} bytes (is this a text file with line breaks?)`);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    let buf = chunk;
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const whole = pending.length === 0 ? buf.subarray(0, nl) : Buffer.concat([...pending, buf.subarray(0, nl)]);
      pending = [];
      pendingBytes = 0;
      const crlf = whole.length > 0 && whole[whole.length - 1] === 0x0d;
      const bytes = crlf ? whole.subarray(0, whole.length - 1) : whole;
      if (bytes.length > maxLineBytes) throw tooLong();
      yield { text: decodeLine(bytes, path, ++line), line, eol: crlf ? '\r\n' : '\n' };
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > 0) {
      pending.push(Buffer.from(buf));
      pendingBytes += buf.length;
      // One byte over: it may be the '\r' of a '\r\n' still to come.
      if (pendingBytes > maxLineBytes + 1) throw tooLong();
    }
  }
  if (pendingBytes > maxLineBytes) throw tooLong();
  if (pending.length > 0) yield { text: decodeLine(Buffer.concat(pending), path, ++line), line, eol: '' };
}
