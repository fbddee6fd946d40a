// Errors raised by tokenizers: bad tokenizer files, unsupported requests (padding without a pad
// token, a missing chat template), invalid arguments.
import { PeftjsError } from '../engine/errors.js';

export class TokenizerError extends PeftjsError {
  override name = 'TokenizerError';
}
