// The read interface shared by single-file and sharded checkpoints, and loading all of one.
import type { DType } from '../engine/dtype.js';
import type { Tensor } from '../engine/tensor.js';
import type { FileDType, RawTensor } from './dtypes.js';

export interface TensorInfo {
  dtype: FileDType;
  shape: number[];
  byteLength: number;
}

export interface ReadOptions {
  /** Engine dtype of the result; by default F32/F16/BF16 are kept, F64 becomes float32 and integers int32. */
  dtype?: DType;
}

export interface TensorReader {
  keys(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  readRaw(name: string): RawTensor;
  readTensor(name: string, options?: ReadOptions): Tensor;
  close(): void;
}

/** Reads every tensor of `reader` (one at a time), closing it; on failure frees what was read. */
export function readAll(reader: TensorReader, options: ReadOptions = {}): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  try {
    for (const key of reader.keys()) out.set(key, reader.readTensor(key, options));
    return out;
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  } finally {
    reader.close();
  }
}
