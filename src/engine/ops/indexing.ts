// Index lookups along an axis: embedding, indexSelect and gather, each with a scatter-add backward.
// Every index is range-checked here (one typed-array scan) before the kernels, which trust them.
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { DTYPE_BYTES } from '../dtype.js';
import { IndexError, ShapeError } from '../errors.js';
import { formatShape, normAxis, type Shape, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { aroundAxis } from './axis-layout.js';
import { checkInt, checkOptions, checkTensor } from './check.js';
import { slice } from './view.js';

type Buf = ArrayBuffer;

interface IndexingKernels {
  indexSelect(x: Buf, index: Buf, out: Buf, outer: number, nX: number, nIndex: number, inner: number, elemBytes: number): void;
  indexAdd(g: Buf, index: Buf, gx: Buf, outer: number, nX: number, nIndex: number, inner: number, skipRow: number): void;
  gatherAlong(x: Buf, index: Buf, out: Buf, outer: number, nX: number, nIndex: number, inner: number, elemBytes: number): void;
  scatterAddAlong(g: Buf, index: Buf, gx: Buf, outer: number, nX: number, nIndex: number, inner: number): void;
}

const kernels = native as unknown as IndexingKernels;

function formatPosition(shape: Shape, flat: number): string {
  return formatShape(stridesOf(shape).map((stride, d) => Math.floor(flat / stride) % shape[d]!));
}

/** Throws an IndexError naming the first entry of `index` outside [0, bound). */
function checkIndexRange(op: string, arg: string, index: Tensor, bound: number): void {
  const values = index.data();
  for (let i = 0; i < values.length; i++) {
    // One unsigned comparison also rejects negative entries.
    if (values[i]! >>> 0 >= bound) {
      throw new IndexError(op, arg, `holds ${values[i]} at ${formatPosition(index.shape, i)}, expected an index in [0, ${bound})`);
    }
  }
}

/**
 * Rows of x along `axis` picked by the flat int32 `index` (already range-checked); the output has
 * `outShape`. The backward adds each gradient row back onto its source row, except `skipRow`.
 */
function selectRows(op: string, x: Tensor, axis: number, index: Tensor, outShape: Shape, skipRow = -1): Tensor {
  const { outer, n, inner } = aroundAxis(x.shape, axis);
  const count = index.size;
  const out = Tensor.empty(outShape, x.dtype);
  kernels.indexSelect(x.buffer, index.buffer, out.buffer, outer, n, count, inner, DTYPE_BYTES[x.dtype]);
  return record(
    op,
    out,
    [x],
    (g, _needs, [savedIndex]) => {
      const gx = Tensor.empty(x.shape);
      kernels.indexAdd(g.buffer, savedIndex!.buffer, gx.buffer, outer, n, count, inner, skipRow);
      return [gx];
    },
    [index],
  );
}

export interface EmbeddingOptions {
  /** This row receives no gradient (torch's padding_idx); negative counts from the end. */
  paddingIdx?: number;
}

/** Rows of weight [V, D] for int32 ids of any shape: the result is [...ids.shape, D]. */
export function embedding(weight: Tensor, ids: Tensor, options?: EmbeddingOptions): Tensor {
  checkTensor('embedding', 'weight', weight);
  checkInt('embedding', 'ids', ids);
  const { paddingIdx: p } = checkOptions('embedding', options, ['paddingIdx']);
  if (weight.ndim !== 2) throw new ShapeError('embedding', 'weight', `must be 2-D [vocab, dim], got ${formatShape(weight.shape)}`);
  const [vocab, dim] = weight.shape as [number, number];
  let padding = -1;
  if (p !== undefined) {
    if (!Number.isInteger(p) || p < -vocab || p >= vocab) {
      throw new IndexError('embedding', 'paddingIdx', `must be an integer in [${-vocab}, ${vocab}), got ${p}`);
    }
    padding = p < 0 ? p + vocab : p;
  }
  checkIndexRange('embedding', 'ids', ids, vocab);
  return selectRows('embedding', weight, 0, ids, [...ids.shape, dim], padding);
}

/** torch.index_select: the entries of x at positions `index` (int32, 1-D) along `axis`. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor('indexSelect', 'x', x);
  checkInt('indexSelect', 'index', index);
  if (x.ndim === 0) throw new ShapeError('indexSelect', 'x', 'must have at least 1 dim, got a scalar');
  const a = normAxis('indexSelect', axis, x.ndim);
  if (index.ndim > 1) throw new ShapeError('indexSelect', 'index', `must be 1-D, got ${formatShape(index.shape)}`);
  checkIndexRange('indexSelect', 'index', index, x.shape[a]!);
  return selectRows('indexSelect', x, a, index, x.shape.map((d, i) => (i === a ? index.size : d)));
}

/**
 * torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`. index (int32) has
 * x's rank and no larger extent than x on the other axes; the output has index's shape.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor('gather', 'x', x);
  checkInt('gather', 'index', index);
  if (x.ndim === 0) throw new ShapeError('gather', 'x', 'must have at least 1 dim, got a scalar');
  if (index.ndim !== x.ndim) {
    throw new ShapeError('gather', 'index', `must have the rank of x ${formatShape(x.shape)}, got ${formatShape(index.shape)}`);
  }
  const a = normAxis('gather', axis, x.ndim);
  for (let d = 0; d < x.ndim; d++) {
    if (d !== a && index.shape[d]! > x.shape[d]!) {
      throw new ShapeError('gather', 'index', `${formatShape(index.shape)} exceeds x ${formatShape(x.shape)} on axis ${d}`);
    }
  }
  checkIndexRange('gather', 'index', index, x.shape[a]!);
  // Where index is shorter than x on another axis, gather from the leading part of x.
  let narrowed = x;
  for (let d = 0; d < x.ndim; d++) {
    if (d === a || index.shape[d] === x.shape[d]) continue;
    const next = slice(narrowed, d, 0, index.shape[d]);
    if (narrowed !== x) narrowed.dispose();
    narrowed = next;
  }
  const { outer, n: count, inner } = aroundAxis(index.shape, a);
  const nX = narrowed.shape[a]!;
  const out = Tensor.empty(index.shape, x.dtype);
  kernels.gatherAlong(narrowed.buffer, index.buffer, out.buffer, outer, nX, count, inner, DTYPE_BYTES[x.dtype]);
  const result = record(
    'gather',
    out,
    [narrowed],
    (g, _needs, [savedIndex]) => {
      const gx = Tensor.empty(narrowed.shape);
      kernels.scatterAddAlong(g.buffer, savedIndex!.buffer, gx.buffer, outer, nX, count, inner);
      return [gx];
    },
    [index],
  );
  if (narrowed !== x) narrowed.dispose();
  return result;
}
