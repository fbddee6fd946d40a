// Argument checks shared by the ops: every tensor argument is alive and of the expected dtype, and
// every option of the expected type, before anything is handed to the native layer.
import { describeValue } from '../dtype.js';
import { DTypeError, EngineError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkNumber } from './check-number.js';

/** A live tensor of any dtype (ops that only move elements: index lookups, joins). */
export function checkTensor(op: string, arg: string, t: Tensor): Tensor {
  if (t === null || typeof t !== 'object' || (t as { isTensor?: boolean }).isTensor !== true) {
    throw new DTypeError(op, arg, `must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  return t.assertAlive(op, arg);
}

export function checkFloat(op: string, arg: string, t: Tensor): Tensor {
  checkTensor(op, arg, t);
  if (t.dtype !== 'float32') throw new DTypeError(op, arg, `must be float32, got ${t.dtype}`);
  return t;
}

export function checkInt(op: string, arg: string, t: Tensor): Tensor {
  checkTensor(op, arg, t);
  if (t.dtype !== 'int32') throw new DTypeError(op, arg, `must be int32, got ${t.dtype}`);
  return t;
}

export function checkMinRank(op: string, arg: string, t: Tensor, rank: number): void {
  if (t.ndim < rank) throw new ShapeError(op, arg, `must have at least ${rank} dims, got shape ${formatShape(t.shape)}`);
}

/**
 * An options argument: an object holding only `known` keys, read as given. null and undefined stand
 * for no options unless `required`. A misspelt key is an error rather than a silently ignored setting.
 */
export function checkOptions<T extends object>(op: string, options: T | null | undefined, known: readonly string[], required = false): Partial<T> {
  if ((options === undefined || options === null) && !required) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new EngineError(op, 'options', `must be an object of options (${known.join(', ')}), got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new EngineError(op, `options.${key}`, `is not an option (known: ${known.join(', ')})`);
  }
  return options;
}

/** A boolean flag; `fallback` when undefined. Native code would read any other value as false. */
export function checkFlag(op: string, arg: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new EngineError(op, arg, `must be a boolean, got ${describeValue(v)}`);
  return v;
}

/** A finite number; `fallback` when undefined and one is given. Native code would read a non-number as 0. */
export function checkFinite(op: string, arg: string, v: unknown, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (!Number.isFinite(checkNumber(op, arg, v))) throw new EngineError(op, arg, `must be a finite number, got ${v}`);
  return v as number;
}

/** An integer (an index, a bound, a count); non-integers would be truncated by native code or misalign strides. */
export function checkInteger(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ShapeError(op, arg, `must be an integer, got ${describeValue(v)}`);
  return v;
}

/** A list argument (a shape, a permutation); its entries are checked by the op. */
export function checkList(op: string, arg: string, v: unknown): readonly number[] {
  if (!Array.isArray(v)) throw new ShapeError(op, arg, `must be an array of integers, got ${describeValue(v)}`);
  return v as readonly number[];
}
