// Index-valued selections: argmax and topk. NaN ranks above every number, as in PyTorch; equal
// values rank by lower index first. Indices carry no gradient; topk's values are a gather of x, so
// their gradient flows back to the selected positions.
import { native } from '../../native/binding.js';
import { ShapeError } from '../errors.js';
import { normAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { aroundAxis } from './axis-layout.js';
import { checkFlag, checkFloat, checkMinRank, checkOptions } from './check.js';
import { gather } from './indexing.js';

type Buf = ArrayBuffer;

interface SelectionKernels {
  argmax(x: Buf, out: Buf, outer: number, n: number, inner: number): void;
  topkIndices(x: Buf, out: Buf, outer: number, n: number, inner: number, k: number, largest: boolean): void;
}

const kernels = native as unknown as SelectionKernels;

/**
 * int32 positions of the maximum along `axis` (the first one on ties), or of the flattened tensor
 * when axis is omitted. keepDim keeps the reduced axis with size 1.
 */
export function argmax(x: Tensor, axis?: number, keepDim?: boolean): Tensor {
  checkFloat('argmax', 'x', x);
  const keep = checkFlag('argmax', 'keepDim', keepDim, false);
  if (axis === undefined) {
    if (x.size === 0) throw new ShapeError('argmax', 'x', 'is empty; the maximum of no elements is undefined');
    const out = Tensor.empty(keep ? x.shape.map(() => 1) : [], 'int32');
    kernels.argmax(x.buffer, out.buffer, 1, x.size, 1);
    return out;
  }
  checkMinRank('argmax', 'x', x, 1);
  const a = normAxis('argmax', axis, x.ndim);
  const { outer, n, inner } = aroundAxis(x.shape, a);
  if (n === 0) throw new ShapeError('argmax', 'x', `has an empty axis ${a}; the maximum of no elements is undefined`);
  const shape = keep ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  const out = Tensor.empty(shape, 'int32');
  kernels.argmax(x.buffer, out.buffer, outer, n, inner);
  return out;
}

export interface TopkOptions {
  /** Default -1. */
  axis?: number;
  /** The k largest (default), in descending order, or the k smallest in ascending order. */
  largest?: boolean;
}

/** torch.topk: the k largest (or smallest) entries along an axis, sorted, and their int32 positions. */
export function topk(x: Tensor, k: number, options?: TopkOptions): { values: Tensor; indices: Tensor } {
  checkFloat('topk', 'x', x);
  checkMinRank('topk', 'x', x, 1);
  const given = checkOptions('topk', options, ['axis', 'largest']);
  const largest = checkFlag('topk', 'options.largest', given.largest, true);
  const a = normAxis('topk', given.axis ?? -1, x.ndim, 'options.axis');
  const { outer, n, inner } = aroundAxis(x.shape, a);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new ShapeError('topk', 'k', `must be an integer in [0, ${n}] (axis ${a} size), got ${k}`);
  const indices = Tensor.empty(x.shape.map((d, i) => (i === a ? k : d)), 'int32');
  kernels.topkIndices(x.buffer, indices.buffer, outer, n, inner, k, largest);
  return { values: gather(x, a, indices), indices };
}
