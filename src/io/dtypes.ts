// Element types as checkpoint files name them (safetensors spelling), their sizes, and how they map
// onto the engine's dtypes. RawTensor carries any of them as little-endian bytes.
import type { DType } from '../engine/dtype.js';

export type FileDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const FILE_DTYPE_BYTES: Readonly<Record<FileDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export const FILE_DTYPES = Object.keys(FILE_DTYPE_BYTES) as readonly FileDType[];

export function isFileDType(value: unknown): value is FileDType {
  return typeof value === 'string' && Object.hasOwn(FILE_DTYPE_BYTES, value);
}

/** The engine dtype each file dtype is read as unless another is asked for. */
export const ENGINE_DTYPE_OF: Readonly<Record<FileDType, DType>> = {
  F64: 'float32',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int32',
  I32: 'int32',
  I16: 'int32',
  I8: 'int32',
  U8: 'int32',
  BOOL: 'int32',
};

export const FILE_DTYPE_OF: Readonly<Record<DType, FileDType>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int32: 'I32',
};

/** Whether the engine holds this file dtype with the very same bytes (so reads need no decoding). */
export function isEngineLayout(dtype: FileDType): boolean {
  return FILE_DTYPE_OF[ENGINE_DTYPE_OF[dtype]] === dtype;
}

export function isFloatFileDType(dtype: FileDType): boolean {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

/** A tensor of any file dtype as row-major little-endian bytes. */
export interface RawTensor {
  dtype: FileDType;
  shape: number[];
  bytes: Uint8Array;
}

export function isRawTensor(value: unknown): value is RawTensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { isTensor?: unknown }).isTensor !== true &&
    isFileDType((value as RawTensor).dtype) &&
    Array.isArray((value as RawTensor).shape) &&
    (value as RawTensor).bytes instanceof Uint8Array
  );
}

export function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
}

/** Element count of a shape, or undefined when it exceeds the safe-integer range. */
export function elementCount(shape: readonly number[]): number | undefined {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return n;
}
