// Plain-text documents: a whole file per document, or blocks of lines separated by blank lines.
import { readLines } from './lines.js';
import type { DataRecord } from './record.js';

export interface TextReadOptions {
  /** 'file': each file is one document; 'blank-line' (default): blocks separated by blank lines. */
  split?: 'file' | 'blank-line';
}

/** Documents as records {text}, each with the line it starts on; whitespace-only documents are skipped. */
export async function* readTextDocuments(paths: string | readonly string[], opts: TextReadOptions = {}): AsyncGenerator<DataRecord> {
  const split = opts.split ?? 'blank-line';
  if (split !== 'file' && split !== 'blank-line') throw new TypeError(`readTextDocuments: split must be 'file' or 'blank-line', got ${JSON.stringify(split)}`);
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    let block: string[] = [];
    let start = 0;
    const flush = (): DataRecord | null => {
      const text = block.join('\n');
      block = [];
      return text.trim() === '' ? null : { data: { text }, file: path, line: start };
    };
    for await (const { text, line } of readLines(path)) {
      if (split === 'blank-line' && text.trim() === '') {
        const doc = flush();
        if (doc) yield doc;
        continue;
      }
      if (block.length === 0) start = line;
      block.push(text);
    }
    const doc = flush();
    if (doc) yield doc;
  }
}
