// Typed errors for reading and writing checkpoint files. Each names the file and, where known, the
// tensor or key, then says what was expected.
import { PeftjsError } from '../engine/errors.js';

/** Keys come from the file; an absurdly long one is cut short in messages. */
function shorten(key: string): string {
  return key.length > 200 ? `${key.slice(0, 197)}...` : key;
}

export class FormatError extends PeftjsError {
  override name = 'FormatError';
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    detail: string,
  ) {
    super(key === undefined ? `${file}: ${detail}` : `${file}: '${shorten(key)}': ${detail}`);
  }
}

export class SafetensorsError extends FormatError {
  override name = 'SafetensorsError';
}

export class TorchCheckpointError extends FormatError {
  override name = 'TorchCheckpointError';
}

/** A pickle referenced a global outside the allowlist; nothing was called. */
export class UnsafePickleError extends TorchCheckpointError {
  override name = 'UnsafePickleError';
  constructor(
    file: string,
    readonly global: string,
  ) {
    super(file, undefined, `refusing to load the pickled global '${global}': only tensor-rebuilding globals of torch state dicts are allowed`);
  }
}
