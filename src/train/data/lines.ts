// Streaming line reader: a file is read in chunks and split on '\n' ('\r\n' too), each line decoded
// as strict UTF-8 and numbered from 1, so readers built on it can name the line of every problem.
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

/** The lines of a file, read as a stream. */
export async function* readLines(path: string): AsyncGenerator<Line> {
  let pending: Buffer = Buffer.alloc(0);
  let line = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const crlf = nl > 0 && buf[nl - 1] === 0x0d;
      yield { text: decodeLine(buf.subarray(0, crlf ? nl - 1 : nl), path, ++line), line, eol: crlf ? '\r\n' : '\n' };
      buf = buf.subarray(nl + 1);
    }
    pending = Buffer.from(buf);
  }
  if (pending.length > 0) yield { text: decodeLine(pending, path, ++line), line, eol: '' };
}
