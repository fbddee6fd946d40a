// Errors raised while reading model configs and building models.
import { PeftjsError } from '../engine/errors.js';

export class ModelConfigError extends PeftjsError {
  override name = 'ModelConfigError';
}
