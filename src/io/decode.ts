// Turns file bytes into engine tensors: F32/F16/BF16/I32 are read straight into tensor memory;
// F64 becomes float32 and the other integer types int32 (I64 with a range check), decoded in
// bounded chunks so a conversion never holds a second full copy of the tensor.
import { DTYPE_BYTES, type DType } from '../engine/dtype.js';
import { toDtype } from '../engine/ops/cast.js';
import { Tensor } from '../engine/tensor.js';
import type { FormatErrorClass } from './byte-source.js';
import { ENGINE_DTYPE_OF, FILE_DTYPE_BYTES, type FileDType, isEngineLayout, isFloatFileDType } from './dtypes.js';

/** Fills `into` with the tensor's bytes starting at byte `offset` of its data. */
export type TensorBytesReader = (offset: number, into: Uint8Array) => void;

export interface DecodeTarget {
  file: string;
  key: string;
  error: FormatErrorClass;
  /** Engine dtype wanted; defaults to ENGINE_DTYPE_OF[dtype]. */
  dtype?: DType;
}

const CHUNK_BYTES = 1 << 24;

/** Converts `src` elements into `dst` from element `at`; returns the index of an out-of-range I64 or -1. */
function decodeChunk(dtype: FileDType, src: Uint8Array, dst: Float32Array | Int32Array, at: number): number {
  const n = src.length / FILE_DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F64': {
      const v = new Float64Array(src.buffer, src.byteOffset, n);
      for (let i = 0; i < n; i++) dst[at + i] = v[i]!;
      return -1;
    }
    case 'I64': {
      // Two's complement halves: a value fits int32 when the high word is the low word's sign.
      const w = new Int32Array(src.buffer, src.byteOffset, 2 * n);
      for (let i = 0; i < n; i++) {
        const lo = w[2 * i]!;
        if (w[2 * i + 1] !== lo >> 31) return at + i;
        dst[at + i] = lo;
      }
      return -1;
    }
    case 'I16':
      dst.set(new Int16Array(src.buffer, src.byteOffset, n), at);
      return -1;
    case 'I8':
      dst.set(new Int8Array(src.buffer, src.byteOffset, n), at);
      return -1;
    case 'U8':
      dst.set(src, at);
      return -1;
    case 'BOOL':
      for (let i = 0; i < n; i++) dst[at + i] = src[i] === 0 ? 0 : 1;
      return -1;
    default:
      throw new Error(`decodeChunk: ${dtype} needs no decoding`);
  }
}

function int64At(read: TensorBytesReader, index: number): bigint {
  const bytes = new Uint8Array(8);
  read(index * 8, bytes);
  return new DataView(bytes.buffer).getBigInt64(0, true);
}

function decodeInto(t: Tensor, dtype: FileDType, read: TensorBytesReader, target: DecodeTarget): void {
  const elem = FILE_DTYPE_BYTES[dtype];
  const total = t.size * elem;
  if (isEngineLayout(dtype)) {
    if (total > 0) read(0, new Uint8Array(t.buffer, 0, total));
    return;
  }
  const dst = t.data();
  const scratch = new Uint8Array(Math.min(total, CHUNK_BYTES));
  for (let offset = 0; offset < total; offset += scratch.length) {
    const chunk = scratch.subarray(0, Math.min(scratch.length, total - offset));
    read(offset, chunk);
    const bad = decodeChunk(dtype, chunk, dst, offset / elem);
    if (bad >= 0) {
      throw new target.error(target.file, target.key, `I64 element ${bad} is ${int64At(read, bad)}, outside the int32 range; read it with readRaw`);
    }
  }
}

/** Reads a tensor of file dtype `dtype` and `shape` into a new engine tensor. */
export function decodeTensor(dtype: FileDType, shape: readonly number[], read: TensorBytesReader, target: DecodeTarget): Tensor {
  const natural = ENGINE_DTYPE_OF[dtype];
  const wanted = target.dtype ?? natural;
  if (!Object.hasOwn(DTYPE_BYTES, wanted)) {
    throw new target.error(target.file, target.key, `cannot be read as '${String(wanted)}' (expected ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  if (wanted === 'int32' && isFloatFileDType(dtype)) {
    throw new target.error(target.file, target.key, `is ${dtype}; reading it as int32 would truncate (ask for a float dtype)`);
  }
  const t = Tensor.empty(shape, natural);
  try {
    decodeInto(t, dtype, read, target);
  } catch (err) {
    t.dispose();
    throw err;
  }
  if (wanted === natural) return t;
  const converted = toDtype(t, wanted);
  t.dispose();
  return converted;
}
