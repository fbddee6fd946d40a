// Errors about training data: each names the file, the line the record starts on and, where one is
// at fault, the field, then says what was expected (`train.jsonl:17: field "label" missing`).
import { PeftjsError } from '../../engine/errors.js';

export class DataError extends PeftjsError {
  override name = 'DataError';
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}
