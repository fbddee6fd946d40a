// The tensor handle: shape + dtype over a reference-counted native Storage, always contiguous
// (row-major). Views that cannot share memory (permute, slice, expand) are materialised by ops.
import { native } from '../native/binding.js';
import { checkDType, DTYPE_BYTES, type DType, isHalf } from './dtype.js';
import { DisposedTensorError, DTypeError, EngineError, ShapeError } from './errors.js';
import { checkShape, formatShape, type Shape, sizeOf } from './shape.js';
import { Storage } from './storage.js';
import { trackTensor } from './scope.js';
import type { GradNode } from './autograd.js';
import { runBackward } from './autograd.js';

let nextId = 1;

export type TypedData = Float32Array | Int32Array;

/** A frozen copy of `shape` (or `shape` itself when already frozen, as another tensor's is). */
function frozenShape(shape: Shape): Shape {
  if (Object.isFrozen(shape)) return shape;
  // An indexed copy freezes faster than a spread one in V8.
  const copy = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) copy[i] = shape[i]!;
  return Object.freeze(copy);
}

function tooLargeError(op: string, shape: Shape, dtype: DType, bytes: number): EngineError {
  return new EngineError(op, 'shape', `${formatShape(shape)} of ${dtype} needs ${bytes.toLocaleString('en-US')} bytes, more than can be allocated`);
}

export class Tensor {
  readonly isTensor = true;
  readonly id = nextId++;
  readonly size: number;
  /** Frozen: kernels trust it to describe the storage, so it must not change under them. */
  readonly shape: Shape;
  requiresGrad = false;
  grad: Tensor | null = null;
  gradFn: GradNode | null = null;
  private disposedFlag = false;

  /** Wraps storage (taking over one reference to it). Use the creation ops instead. */
  constructor(
    readonly storage: Storage,
    shape: Shape,
    readonly dtype: DType,
    track = true,
  ) {
    this.shape = frozenShape(shape);
    this.size = sizeOf(this.shape);
    if (track) trackTensor(this);
  }

  /** A new tensor of `shape` (zero-filled with `zero`); errors name `op`, the function the caller was asked for. */
  static empty(shape: Shape, dtype: DType = 'float32', zero = false, op = 'empty'): Tensor {
    checkShape(op, shape);
    checkDType(op, dtype);
    const bytes = sizeOf(shape) * DTYPE_BYTES[dtype];
    if (!Number.isSafeInteger(bytes) || bytes > Storage.maxBytes) throw tooLargeError(op, shape, dtype, bytes);
    let storage: Storage;
    try {
      storage = Storage.allocate(bytes, zero);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_PEFTJS_OOM') throw tooLargeError(op, shape, dtype, bytes);
      throw err;
    }
    return new Tensor(storage, shape, dtype);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  get buffer(): ArrayBuffer {
    return this.storage.buffer;
  }

  /** Throws unless the tensor is alive; `op`/`arg` name the caller in the message. */
  assertAlive(op: string, arg: string): this {
    if (this.disposedFlag) throw new DisposedTensorError(op, arg, 'is a disposed tensor');
    return this;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.storage.release();
  }

  /** A second handle on the same memory (not tracked by scopes), used by autograd to save inputs. */
  alias(): Tensor {
    this.assertAlive('alias', 'this');
    this.storage.retain();
    return new Tensor(this.storage, this.shape, this.dtype, false);
  }

  /** A new tensor with this one's memory and another shape of the same size. */
  view(shape: Shape): Tensor {
    this.assertAlive('view', 'this');
    checkShape('view', shape);
    if (sizeOf(shape) !== this.size) {
      throw new ShapeError('view', 'shape', `${formatShape(shape)} does not match size ${this.size}`);
    }
    this.storage.retain();
    return new Tensor(this.storage, shape, this.dtype);
  }

  /** Zero-copy typed view of the data (float32 or int32 tensors only). */
  data(): TypedData {
    this.assertAlive('data', 'this');
    if (this.dtype === 'float32') return this.storage.f32().subarray(0, this.size);
    if (this.dtype === 'int32') return this.storage.i32().subarray(0, this.size);
    throw new DTypeError('data', 'this', `is ${this.dtype}; convert with toDtype('float32') or use toArray()`);
  }

  /** A copy of the data; half-precision tensors are converted to Float32Array. */
  toArray(): TypedData {
    this.assertAlive('toArray', 'this');
    if (isHalf(this.dtype)) {
      const out = new Float32Array(this.size);
      const tmp = Storage.allocate(this.size * 4);
      native.castHalfToF32(this.storage.buffer, tmp.buffer, this.size, this.dtype === 'bfloat16');
      out.set(tmp.f32().subarray(0, this.size));
      tmp.release();
      return out;
    }
    return this.data().slice();
  }

  item(): number {
    if (this.size !== 1) throw new ShapeError('item', 'this', `must hold one element, has shape ${formatShape(this.shape)}`);
    return this.toArray()[0]!;
  }

  /** A tensor with the same memory that is cut off from the graph. */
  detach(): Tensor {
    this.assertAlive('detach', 'this');
    return this.view(this.shape);
  }

  setRequiresGrad(flag = true): this {
    if (flag && this.dtype !== 'float32') {
      throw new DTypeError('setRequiresGrad', 'this', `is ${this.dtype}; only float32 tensors can require grad`);
    }
    this.requiresGrad = flag;
    return this;
  }

  /** Backpropagates from this tensor (a scalar unless `grad` is given) into leaf `.grad`s. */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    runBackward(this, grad, options.retainGraph ?? false);
  }

  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
