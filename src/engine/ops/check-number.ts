// Checks a plain-number argument (an exponent, a bound, a fill value) before it reaches a kernel.
import { EngineError } from '../errors.js';

export function checkNumber(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') throw new EngineError(op, arg, `must be a number, got ${v === null ? 'null' : typeof v}`);
  return v;
}
