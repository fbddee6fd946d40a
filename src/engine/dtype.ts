// Element types. Compute is f32; bf16/f16 are storage formats for frozen weights; int32 holds indices.
import { DTypeError } from './errors.js';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'int32';

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int32: 4,
};

export function isHalf(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'bfloat16';
}

/** Throws unless `dtype` is one of the engine's dtypes; a bad one would size buffers as NaN bytes. */
export function checkDType(op: string, dtype: unknown, arg = 'dtype'): DType {
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw new DTypeError(op, arg, `must be float32, float16, bfloat16 or int32, got ${describeValue(dtype)}`);
  }
  return dtype as DType;
}

/** A short description of a bad argument for error messages: strings quoted, objects by kind. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return String(v);
}
