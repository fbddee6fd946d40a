// Errors raised by generation: invalid inputs or model outputs met while decoding, and invalid
// generation settings (a GenerationError too, naming the option as its source spells it).
import { PeftjsError } from '../engine/errors.js';

export class GenerationError extends PeftjsError {
  override name = 'GenerationError';
}

export class GenerationConfigError extends GenerationError {
  override name = 'GenerationConfigError';
  /** The option at fault, as its source names it (`topP` in call options, `top_p` in a JSON file). */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}
