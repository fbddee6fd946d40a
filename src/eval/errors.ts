// Errors about an evaluation run: what was asked of it and why it cannot be scored.
import { PeftjsError } from '../engine/errors.js';

export class EvaluationError extends PeftjsError {
  override name = 'EvaluationError';
}
