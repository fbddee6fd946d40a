// Errors raised by generation: invalid generation settings (naming the option as its source spells
// it) and invalid inputs or model outputs met while decoding.
import { PeftjsError } from '../engine/errors.js';

export class GenerationConfigError extends PeftjsError {
  override name = 'GenerationConfigError';
  /** The option at fault, as its source names it (`topP` in call options, `top_p` in a JSON file). */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

export class GenerationError extends PeftjsError {
  override name = 'GenerationError';
}
