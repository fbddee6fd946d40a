// Reading the JSON files of model, adapter and tokenizer folders, with errors naming the file.
import { readFileSync } from 'node:fs';
import { PeftjsError } from '../engine/errors.js';

export class JsonFileError extends PeftjsError {
  override name = 'JsonFileError';
  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${detail}`, options);
  }
}

/** Parses `path`, which must hold a JSON object. */
export function readJsonObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new JsonFileError(path, `cannot be read (${(e as Error).message})`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new JsonFileError(path, `is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JsonFileError(path, `must hold a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'null' : typeof value}`);
  }
  return value as Record<string, unknown>;
}
