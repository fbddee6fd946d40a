// JSON Lines: one JSON object per line; blank lines are skipped.
import { DataError } from './errors.js';
import { readLines } from './lines.js';
import { describe, type DataRecord } from './record.js';

export async function* readJsonl(path: string): AsyncGenerator<DataRecord> {
  for await (const { text, line } of readLines(path)) {
    if (text.trim() === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new DataError(path, line, `invalid JSON (${(e as Error).message})`);
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new DataError(path, line, `expected a JSON object, got ${describe(data)}`);
    }
    yield { data: data as Record<string, unknown>, file: path, line };
  }
}
