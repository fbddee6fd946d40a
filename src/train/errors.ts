// Typed errors of the trainer: a bad training option names the option; a bad checkpoint names the
// file and, where known, the key inside it.
import { PeftjsError } from '../engine/errors.js';

export class TrainerError extends PeftjsError {
  override name = 'TrainerError';
}

export class TrainingArgumentsError extends TrainerError {
  override name = 'TrainingArgumentsError';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`TrainingArguments: option '${option}' ${detail}`);
  }
}

export class CheckpointError extends TrainerError {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(key === undefined ? `${file}: ${detail}` : `${file}: '${key}': ${detail}`, options);
  }
}
