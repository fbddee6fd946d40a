// Tensor creation: constants, ranges, seeded random fills, and conversion from JS arrays.
// Every value is checked against the dtype it is stored in: a typed-array store would otherwise
// turn strings into 0 or NaN and wrap integers outside int32.
import { native } from '../../native/binding.js';
import { checkDType, describeValue, type DType } from '../dtype.js';
import { DTypeError, EngineError, ShapeError } from '../errors.js';
import { type Generator, generatorOption } from '../random.js';
import { checkShape, formatShape, type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFinite } from './check.js';
import { checkNumber } from './check-number.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Whether `v` is stored exactly as a `dtype` element: any number (NaN, ±Infinity too) for floats. */
function fits(v: unknown, dtype: DType): v is number {
  return typeof v === 'number' && (dtype !== 'int32' || (Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX));
}

function checkElement(op: string, arg: string, v: unknown, dtype: DType): number {
  if (fits(v, dtype)) return v;
  checkNumber(op, arg, v);
  throw new EngineError(op, arg, `must be an integer in int32 range [${INT32_MIN}, ${INT32_MAX}], got ${v}`);
}

/** The dtypes that can be filled from JS numbers directly. */
function checkFillDType(op: string, dtype: unknown): 'float32' | 'int32' {
  checkDType(op, dtype);
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError(op, 'dtype', `must be float32 or int32, got ${dtype}`);
  return dtype;
}

/** Tensor.empty with the shape and dtype checked under the caller's name. */
function create(op: string, shape: Shape, dtype: unknown, zero = false): Tensor {
  return Tensor.empty(shape, dtype as DType, zero, op);
}

export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return create('zeros', shape, dtype, true);
}

function fill(op: string, shape: Shape, value: number, dtype: DType): Tensor {
  checkElement(op, 'value', value, checkFillDType(op, dtype));
  const t = create(op, shape, dtype);
  if (dtype === 'float32') native.fillF32(t.buffer, t.size, value);
  else t.data().fill(value);
  return t;
}

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  return fill('full', shape, value, dtype);
}

export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return fill('ones', shape, 1, dtype);
}

/** A scalar (shape []) float32 tensor. */
export function scalar(value: number): Tensor {
  return fill('scalar', [], value, 'float32');
}

export interface ArangeOptions {
  step?: number;
  dtype?: DType;
}

/** arange(end) or arange(start, end), each with optional options, as torch.arange. */
export function arange(start: number, end?: number | ArangeOptions, options: ArangeOptions = {}): Tensor {
  if (typeof end === 'object' && end !== null) return arange(0, start, end);
  const dtype = checkFillDType('arange', options.dtype ?? 'float32');
  const lo = checkFinite('arange', 'start', end === undefined ? 0 : start);
  const hi = checkFinite('arange', 'end', end === undefined ? start : end);
  const step = options.step ?? 1;
  if (checkFinite('arange', 'step', step) === 0) throw new ShapeError('arange', 'step', `must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  if (dtype === 'int32' && n > 0) {
    checkElement('arange', 'start', lo, dtype);
    checkElement('arange', 'step', step, dtype);
    const last = lo + (n - 1) * step;
    if (!fits(last, dtype)) throw new EngineError('arange', 'end', `takes the range past int32: its last value would be ${last}`);
  }
  const t = create('arange', [n], dtype);
  const d = t.data();
  for (let i = 0; i < n; i++) d[i] = lo + i * step;
  return t;
}

export interface RandomOptions {
  generator?: Generator;
}

/** Uniform samples in [low, high); low <= high, both finite. */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const low = checkFinite('rand', 'low', options.low, 0);
  const high = checkFinite('rand', 'high', options.high, 1);
  if (low > high) throw new EngineError('rand', 'low', `must not exceed high, got low ${low} and high ${high}`);
  const gen = generatorOption('rand', options.generator);
  const t = create('rand', shape, 'float32');
  const [hi, lo] = gen.seedWords();
  native.fillUniform(t.buffer, t.size, hi, lo, gen.take(t.size), low, high);
  return t;
}

/** Normal samples with the given finite mean and finite, non-negative standard deviation. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const mean = checkFinite('randn', 'mean', options.mean, 0);
  const std = checkFinite('randn', 'std', options.std, 1);
  if (std < 0) throw new EngineError('randn', 'std', `must be non-negative, got ${std}`);
  const gen = generatorOption('randn', options.generator);
  const t = create('randn', shape, 'float32');
  const [hi, lo] = gen.seedWords();
  native.fillNormal(t.buffer, t.size, hi, lo, gen.take(2 * t.size), mean, std);
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

/** Flattens nested arrays of the shape `dims` (inferred from the first elements), checking every row and value. */
function flattenNested(data: NestedNumbers[], dims: number[], dtype: DType): number[] {
  const flat: number[] = [];
  const at: number[] = [];
  const path = (): string => `data${at.map((i) => `[${i}]`).join('')}`;
  const ragged = (expected: string, got: string): ShapeError =>
    new ShapeError('fromArray', path(), `must be ${expected} (nested arrays must be rectangular; the first elements give shape ${formatShape(dims)}), got ${got}`);
  const walk = (v: unknown, depth: number): void => {
    if (depth === dims.length) {
      if (Array.isArray(v)) throw ragged('a number', 'an array');
      flat.push(fits(v, dtype) ? v : checkElement('fromArray', path(), v, dtype));
      return;
    }
    if (!Array.isArray(v)) throw ragged(`an array of ${dims[depth]}`, describeValue(v));
    if (v.length !== dims[depth]) throw ragged(`an array of ${dims[depth]}`, `an array of ${v.length}`);
    for (let i = 0; i < v.length; i++) {
      at.push(i);
      walk(v[i], depth + 1);
      at.pop();
    }
  };
  walk(data, 0);
  return flat;
}

function isNumericTypedArray(data: unknown): data is ArrayLike<number> {
  return ArrayBuffer.isView(data) && !(data instanceof DataView) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array);
}

/** Checks flat data element by element, unless its type already guarantees every element fits. */
function checkFlat(data: ArrayLike<unknown>, dtype: DType): void {
  if (data instanceof Int32Array || (dtype !== 'int32' && isNumericTypedArray(data))) return;
  for (let i = 0; i < data.length; i++) {
    if (!fits(data[i], dtype)) checkElement('fromArray', `data[${i}]`, data[i], dtype);
  }
}

/**
 * Builds a tensor from a typed array, a flat array with a shape, or nested (rectangular) arrays.
 * Float32Array/Int32Array data defaults to its own dtype. Values must be numbers; int32 ones
 * integers in int32 range.
 */
export function fromArray(data: ArrayLike<number> | NestedNumbers, shape?: Shape, dtype?: DType): Tensor {
  const type = checkDType('fromArray', dtype ?? (data instanceof Int32Array ? 'int32' : 'float32'));
  let flat: ArrayLike<number>;
  let dims: Shape;
  if (Array.isArray(data) && data.some((v) => Array.isArray(v))) {
    const inferred = inferShape(data);
    flat = flattenNested(data, inferred, type);
    dims = shape ?? inferred;
  } else if (typeof data === 'number') {
    flat = [checkElement('fromArray', 'data', data, type)];
    dims = shape ?? [];
  } else if (Array.isArray(data) || isNumericTypedArray(data)) {
    checkFlat(data, type);
    flat = data as ArrayLike<number>;
    dims = shape ?? [flat.length];
  } else {
    throw new DTypeError('fromArray', 'data', `must be a number, an array or a numeric typed array, got ${describeValue(data)}`);
  }
  checkShape('fromArray', dims);
  if (sizeOf(dims) !== flat.length) {
    throw new ShapeError('fromArray', 'shape', `${formatShape(dims)} holds ${sizeOf(dims)} elements but data has ${flat.length}`);
  }
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
