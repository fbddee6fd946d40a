// A seeded train/validation split; both parts keep the items' original order.
import { permutation } from './shuffle.js';

export interface SplitOptions {
  /** A fraction of the items (0 < x < 1) or a count (an integer ≥ 1). */
  validationSize: number;
  /** Default 0. */
  seed?: number;
}

export function splitTrainValidation<T>(items: readonly T[], opts: SplitOptions): { train: T[]; validation: T[] } {
  const v = opts.validationSize;
  const count = v > 0 && v < 1 ? Math.max(1, Math.round(v * items.length)) : v;
  if (!(Number.isInteger(count) && count >= 1 && count < items.length)) {
    throw new TypeError(`splitTrainValidation: validationSize must be a fraction in (0, 1) or a count from 1 to ${items.length - 1}, got ${v}`);
  }
  const chosen = new Uint8Array(items.length);
  for (const i of permutation(items.length, opts.seed ?? 0).subarray(0, count)) chosen[i] = 1;
  return { train: items.filter((_, i) => !chosen[i]), validation: items.filter((_, i) => chosen[i]) };
}
