// CSV (RFC 4180): a header row names the fields; fields may be quoted with '"', a quoted field may
// hold the delimiter, doubled quotes ('""') and line breaks. Blank lines are skipped. Every record
// must have as many fields as the header. A record spanning lines is bounded as a line is: an
// unbalanced quote is an error at the record's line, not the rest of the file read into one field.
import { DataError } from './errors.js';
import { MAX_LINE_BYTES, readLines } from './lines.js';
import type { DataRecord } from './record.js';

export interface CsvOptions {
  /** Field separator, one character (default ','). */
  delimiter?: string;
  /** The longest line, and the longest record spanning lines, in bytes (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

/** Splits CSV lines into rows of fields; a row may span lines inside quotes. */
class CsvRowParser {
  private fields: string[] = [];
  private field = '';
  /** Inside a quoted field (a line break continues it). */
  inQuotes = false;
  /** Just after the closing quote of a quoted field. */
  private closed = false;
  startLine = 0;

  constructor(
    private readonly file: string,
    private readonly delimiter: string,
  ) {}

  /** Feeds one line; returns the finished row, or null when a quoted field goes on. */
  feed(text: string, line: number, eol: string): string[] | null {
    if (!this.inQuotes) this.startLine = line;
    // Runs of plain characters are taken whole (a slice), not one character at a time.
    let i = 0;
    while (i < text.length) {
      if (this.inQuotes) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          this.field += text.slice(i);
          break;
        }
        this.field += text.slice(i, q);
        if (text[q + 1] === '"') {
          this.field += '"';
          i = q + 2;
        } else {
          this.inQuotes = false;
          this.closed = true;
          i = q + 1;
        }
        continue;
      }
      const c = text[i]!;
      if (c === this.delimiter) {
        this.endField();
        i++;
      } else if (this.closed) {
        throw new DataError(this.file, line, `field ${this.fields.length + 1}: unexpected ${JSON.stringify(c)} after the closing quote (expected the delimiter or the end of the line)`);
      } else if (c === '"') {
        if (this.field !== '') throw new DataError(this.file, line, `field ${this.fields.length + 1}: a quote inside an unquoted field (quote the whole field and double the quote)`);
        this.inQuotes = true;
        i++;
      } else {
        let end = i + 1;
        while (end < text.length && text[end] !== this.delimiter && text[end] !== '"') end++;
        this.field += text.slice(i, end);
        i = end;
      }
    }
    if (this.inQuotes) {
      this.field += eol === '' ? '\n' : eol;
      return null;
    }
    this.endField();
    const row = this.fields;
    this.fields = [];
    return row;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.closed = false;
  }
}

export async function* readCsv(path: string, opts: CsvOptions = {}): AsyncGenerator<DataRecord> {
  const delimiter = opts.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new TypeError(`readCsv: delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const parser = new CsvRowParser(path, delimiter);
  let header: string[] | null = null;
  // Bytes of the record read so far, when it spans lines.
  let recordBytes = 0;
  for await (const { text, line, eol } of readLines(path, { maxLineBytes })) {
    if (text === '' && !parser.inQuotes) continue;
    if (!parser.inQuotes) recordBytes = 0;
    recordBytes += Buffer.byteLength(text) + eol.length;
    const row = parser.feed(text, line, eol);
    if (row === null) {
      if (recordBytes > maxLineBytes) {
        throw new DataError(path, parser.startLine, `a quoted field runs on past ${maxLineBytes} bytes from this line (an unbalanced quote?)`);
      }
      continue;
    }
    if (header === null) {
      const seen = new Set<string>();
      row.forEach((name, i) => {
        if (name === '') throw new DataError(path, parser.startLine, `header: column ${i + 1} has no name`);
        if (seen.has(name)) throw new DataError(path, parser.startLine, `header: duplicate column "${name}"`);
        seen.add(name);
      });
      header = row;
      continue;
    }
    if (row.length !== header.length) {
      throw new DataError(path, parser.startLine, `expected ${header.length} fields (${header.join(', ')}), got ${row.length}`);
    }
    yield { data: Object.fromEntries(header.map((name, i) => [name, row[i]])), file: path, line: parser.startLine };
  }
  if (parser.inQuotes) throw new DataError(path, parser.startLine, 'a quoted field is never closed (the file ends inside it)');
  if (header === null) throw new DataError(path, 1, 'expected a header row, the file is empty');
}
