// Tensor creation: constants, ranges, seeded random fills, and conversion from JS arrays.
import { native } from '../../native/binding.js';
import type { DType } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { checkShape, formatShape, type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return Tensor.empty(shape, dtype, true);
}

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError('full', 'dtype', `must be float32 or int32, got ${dtype}`);
  const t = Tensor.empty(shape, dtype);
  if (dtype === 'float32') native.fillF32(t.buffer, t.size, value);
  else t.data().fill(value);
  return t;
}

export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

/** A scalar (shape []) float32 tensor. */
export function scalar(value: number): Tensor {
  return full([], value);
}

export interface ArangeOptions {
  step?: number;
  dtype?: DType;
}

/** arange(end) or arange(start, end), each with optional options, as torch.arange. */
export function arange(start: number, end?: number | ArangeOptions, options: ArangeOptions = {}): Tensor {
  if (typeof end === 'object') return arange(0, start, end);
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  const step = options.step ?? 1;
  if (step === 0 || !Number.isFinite(step)) throw new ShapeError('arange', 'step', `must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const t = Tensor.empty([n], options.dtype ?? 'float32');
  const d = t.data();
  for (let i = 0; i < n; i++) d[i] = lo + i * step;
  return t;
}

export interface RandomOptions {
  generator?: Generator;
}

/** Uniform samples in [low, high). */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const gen = options.generator ?? defaultGenerator;
  const t = Tensor.empty(shape);
  const [hi, lo] = gen.seedWords();
  native.fillUniform(t.buffer, t.size, hi, lo, gen.take(t.size), options.low ?? 0, options.high ?? 1);
  return t;
}

/** Normal samples with the given mean and standard deviation. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const gen = options.generator ?? defaultGenerator;
  const t = Tensor.empty(shape);
  const [hi, lo] = gen.seedWords();
  native.fillNormal(t.buffer, t.size, hi, lo, gen.take(2 * t.size), options.mean ?? 0, options.std ?? 1);
  return t;
}

type NestedNumbers = number | NestedNumbers[];

function inferShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let cur: NestedNumbers = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedNumbers;
  }
  return shape;
}

/**
 * Builds a tensor from a typed array, a flat array with a shape, or nested arrays.
 * Float32Array/Int32Array data defaults to its own dtype.
 */
export function fromArray(data: ArrayLike<number> | NestedNumbers, shape?: Shape, dtype?: DType): Tensor {
  let flat: ArrayLike<number>;
  let dims: Shape;
  if (Array.isArray(data) && data.some((v) => Array.isArray(v))) {
    dims = shape ?? inferShape(data as NestedNumbers);
    flat = (data as unknown[]).flat(Infinity) as number[];
  } else if (typeof data === 'number') {
    flat = [data];
    dims = shape ?? [];
  } else {
    flat = data as ArrayLike<number>;
    dims = shape ?? [flat.length];
  }
  checkShape('fromArray', dims);
  if (sizeOf(dims) !== flat.length) {
    throw new ShapeError('fromArray', 'shape', `${formatShape(dims)} holds ${sizeOf(dims)} elements but data has ${flat.length}`);
  }
  const type: DType = dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  if (type === 'int32' || type === 'float32') {
    const t = Tensor.empty(dims, type);
    t.data().set(flat);
    return t;
  }
  const f32 = Tensor.empty(dims);
  f32.data().set(flat);
  const half = Tensor.empty(dims, type);
  native.castF32ToHalf(f32.buffer, half.buffer, f32.size, type === 'bfloat16');
  f32.dispose();
  return half;
}
