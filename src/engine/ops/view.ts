// Shape ops. reshape shares memory; permute, slice and expand copy into a new contiguous tensor
// through one strided-copy kernel. Each has its backward beside it. assignSlice writes in place.
import { native } from '../../native/binding.js';
import { isGradEnabled, record } from '../autograd.js';
import { DTYPE_BYTES } from '../dtype.js';
import { EngineError, ShapeError } from '../errors.js';
import { checkShape, formatShape, normAxis, type Shape, sameShape, sizeOf, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkInteger, checkList } from './check.js';
import { zeros } from './creation.js';
import { nativeInts } from './native-ints.js';

function alive(op: string, t: Tensor, arg = 'x'): Tensor {
  return t.assertAlive(op, arg);
}

/** Resolves one -1 entry and checks the element count. */
export function resolveShape(op: string, size: number, shape: Shape): number[] {
  const out = [...checkList(op, 'shape', shape)];
  const free = out.indexOf(-1);
  if (out.filter((d) => d === -1).length > 1) throw new ShapeError(op, 'shape', `can infer at most one -1, got ${formatShape(shape)}`);
  for (const d of out) {
    if (d !== -1 && (!Number.isInteger(d) || d < 0)) throw new ShapeError(op, 'shape', `has an invalid size in ${formatShape(shape)}`);
  }
  if (free >= 0) {
    const known = out.reduce((p, d, i) => (i === free ? p : p * d), 1);
    if (known === 0 || size % known !== 0) throw new ShapeError(op, 'shape', `${formatShape(shape)} cannot hold ${size} elements`);
    out[free] = size / known;
  }
  if (sizeOf(out) !== size) throw new ShapeError(op, 'shape', `${formatShape(shape)} does not match size ${size}`);
  return out;
}

export function reshape(x: Tensor, shape: Shape): Tensor {
  alive('reshape', x);
  const target = resolveShape('reshape', x.size, shape);
  const out = x.view(target);
  return record('reshape', out, [x], (g) => [reshape(g, x.shape)]);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  alive('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startDim, x.ndim, 'startDim');
  const e = normAxis('flatten', endDim, x.ndim, 'endDim');
  if (s > e) throw new ShapeError('flatten', 'startDim', `cannot come after endDim (startDim ${startDim}, endDim ${endDim} for ${x.ndim} dims)`);
  const merged = x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  alive('unsqueeze', x);
  const a = normAxis('unsqueeze', axis, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  alive('squeeze', x);
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.ndim);
  if (x.shape[a] !== 1) return reshape(x, x.shape);
  return reshape(x, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)]);
}

function gather(x: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
  const out = Tensor.empty(shape, x.dtype);
  native.stridedCopy(x.buffer, offset, out.buffer, nativeInts(shape), nativeInts(strides), DTYPE_BYTES[x.dtype] === 2 ? 2 : 4);
  return out;
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  alive('permute', x);
  checkList('permute', 'dims', dims);
  if (dims.length !== x.ndim) throw new ShapeError('permute', 'dims', `must list ${x.ndim} axes, got ${dims.length}`);
  const axes = dims.map((d) => normAxis('permute', d, x.ndim, 'dims'));
  if (new Set(axes).size !== axes.length) throw new ShapeError('permute', 'dims', `must be a permutation, got [${dims.join(', ')}]`);
  const inStrides = stridesOf(x.shape);
  const shape = axes.map((a) => x.shape[a]!);
  const out = gather(x, shape, axes.map((a) => inStrides[a]!), 0);
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, i) => (inverse[a] = i));
  return record('permute', out, [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  alive('transpose', x);
  const a = normAxis('transpose', dim0, x.ndim, 'dim0');
  const b = normAxis('transpose', dim1, x.ndim, 'dim1');
  const dims = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, dims);
}

/** Elements start, start+step, … < end along one axis (negative start/end count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  alive('slice', x);
  const a = normAxis('slice', axis, x.ndim);
  const n = x.shape[a]!;
  if (!Number.isInteger(step) || step < 1) throw new ShapeError('slice', 'step', `must be a positive integer, got ${step}`);
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = clamp(checkInteger('slice', 'start', start));
  const e = end === undefined ? n : clamp(checkInteger('slice', 'end', end));
  const len = Math.max(0, Math.ceil((e - s) / step));
  const inStrides = stridesOf(x.shape);
  const shape = x.shape.map((d, i) => (i === a ? len : d));
  const strides = inStrides.map((st, i) => (i === a ? st * step : st));
  const offset = s * inStrides[a]!;
  const out = gather(x, shape, strides, offset);
  return record('slice', out, [x], (g) => {
    const gx = zeros(x.shape);
    native.stridedAssign(g.buffer, gx.buffer, offset, nativeInts(shape), nativeInts(strides), false);
    return [gx];
  });
}

/**
 * Writes src into dst in place, from position `start` along `axis` (the other dims must match):
 * filling a preallocated buffer such as a KV cache. No gradient flows through it.
 */
export function assignSlice(dst: Tensor, src: Tensor, axis: number, start: number): void {
  checkFloat('assignSlice', 'dst', dst);
  checkFloat('assignSlice', 'src', src);
  const a = normAxis('assignSlice', axis, dst.ndim);
  if (src.ndim !== dst.ndim || src.shape.some((d, i) => i !== a && d !== dst.shape[i])) {
    throw new ShapeError('assignSlice', 'src', `${formatShape(src.shape)} does not fit dst ${formatShape(dst.shape)} along axis ${a}`);
  }
  if (!Number.isInteger(start) || start < 0 || start + src.shape[a]! > dst.shape[a]!) {
    throw new ShapeError('assignSlice', 'start', `${start} + ${src.shape[a]} positions do not fit the ${dst.shape[a]} of dst on axis ${a}`);
  }
  if (isGradEnabled() && (src.requiresGrad || dst.requiresGrad)) throw new EngineError('assignSlice', 'src', 'is an in-place write without gradient: run it under noGrad');
  const strides = stridesOf(dst.shape);
  native.stridedAssign(src.buffer, dst.buffer, start * strides[a]!, nativeInts(src.shape), nativeInts(strides), false);
}

/** Broadcasts size-1 axes (and new leading axes) to `shape`; -1 keeps an axis. */
export function expand(x: Tensor, shape: Shape): Tensor {
  alive('expand', x);
  checkList('expand', 'shape', shape);
  if (shape.length < x.ndim) throw new ShapeError('expand', 'shape', `${formatShape(shape)} has fewer dims than ${formatShape(x.shape)}`);
  const lead = shape.length - x.ndim;
  const inStrides = stridesOf(x.shape);
  const target = shape.map((d, i) => (i < lead ? d : d === -1 ? x.shape[i - lead]! : d));
  // -1 keeps an existing axis only; a new leading axis needs its size.
  checkShape('expand', target);
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const src = x.shape[i - lead]!;
    if (src === d) return inStrides[i - lead]!;
    if (src === 1) return 0;
    throw new ShapeError('expand', 'shape', `cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`);
  });
  if (sameShape(target, x.shape)) return reshape(x, target);
  const out = gather(x, target, strides, 0);
  return record('expand', out, [x], (g) => [sumToShape(g, x.shape)]);
}

/** Sums g down to `shape` (the reverse of broadcasting); used by the backward of broadcasting ops. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  alive('sumToShape', g, 'g');
  checkShape('sumToShape', checkList('sumToShape', 'shape', shape));
  if (shape.length > g.ndim) throw new ShapeError('sumToShape', 'shape', `${formatShape(shape)} has more dims than g ${formatShape(g.shape)}`);
  if (sameShape(g.shape, shape)) return reshape(g, shape);
  const padded = [...new Array<number>(g.ndim - shape.length).fill(1), ...shape];
  padded.forEach((d, i) => {
    if (d !== 1 && d !== g.shape[i]) throw new ShapeError('sumToShape', 'shape', `${formatShape(shape)} is not a broadcast of ${formatShape(g.shape)}`);
  });
  const out = Tensor.empty(shape);
  native.sumTo(g.buffer, nativeInts(g.shape), out.buffer, nativeInts(padded));
  return record('sumToShape', out, [g], (gg) => [expand(gg.view(padded), g.shape)]);
}

/** Copies x (for APIs that promise a fresh tensor); tensors are always contiguous. */
export function contiguous(x: Tensor): Tensor {
  return reshape(x, x.shape);
}
