// Joining and splitting along an axis. concat is one node whose backward hands each input its
// slice of the gradient; stack is concat of unsqueezed inputs; split and chunk return slices, each
// with its own backward.
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { DTYPE_BYTES } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, normAxis, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { aroundAxis } from './axis-layout.js';
import { checkTensor } from './check.js';
import { slice, unsqueeze } from './view.js';

interface JoinKernels {
  copyBlocks(
    src: ArrayBuffer, srcOffsetBytes: number, srcStrideBytes: number,
    dst: ArrayBuffer, dstOffsetBytes: number, dstStrideBytes: number, rows: number, rowBytes: number,
  ): void;
}

const kernels = native as unknown as JoinKernels;

function checkList(op: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ShapeError(op, 'tensors', 'must be a non-empty array of tensors');
  tensors.forEach((t, i) => checkTensor(op, `tensors[${i}]`, t));
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new DTypeError(op, `tensors[${i}]`, `is ${t.dtype}, expected ${first.dtype} like tensors[0]`);
  });
}

/** torch.cat: the tensors joined along `axis`; all other dims must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  checkList('concat', tensors);
  const first = tensors[0]!;
  if (first.ndim === 0) throw new ShapeError('concat', 'tensors[0]', 'is a scalar; scalars cannot be concatenated (use stack)');
  const a = normAxis('concat', axis, first.ndim);
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new ShapeError('concat', `tensors[${i}]`, `has shape ${formatShape(t.shape)}, which differs from ${formatShape(first.shape)} off axis ${a}`);
    }
  });
  const offsets: number[] = [];
  let total = 0;
  for (const t of tensors) {
    offsets.push(total);
    total += t.shape[a]!;
  }
  const { outer, inner } = aroundAxis(first.shape, a);
  const elemBytes = DTYPE_BYTES[first.dtype];
  const out = Tensor.empty(first.shape.map((d, j) => (j === a ? total : d)), first.dtype);
  tensors.forEach((t, i) => {
    const rowBytes = t.shape[a]! * inner * elemBytes;
    kernels.copyBlocks(t.buffer, 0, rowBytes, out.buffer, offsets[i]! * inner * elemBytes, total * inner * elemBytes, outer, rowBytes);
  });
  return record('concat', out, tensors, (g, needs) =>
    tensors.map((t, i) => (needs[i] ? slice(g, a, offsets[i]!, offsets[i]! + t.shape[a]!) : null)),
  );
}

/** torch.stack: equally shaped tensors joined along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  checkList('stack', tensors);
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, first.shape)) {
      throw new ShapeError('stack', `tensors[${i}]`, `has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} like tensors[0]`);
    }
  });
  const a = normAxis('stack', axis, first.ndim + 1);
  const expanded = tensors.map((t) => unsqueeze(t, a));
  const out = concat(expanded, a);
  for (const t of expanded) t.dispose();
  return out;
}

/**
 * torch.split: pieces of `sizeOrSizes` along `axis` (the last one shorter if the size does not
 * divide the axis), or pieces of the listed sizes, which must add up to the axis length.
 */
export function split(x: Tensor, sizeOrSizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', 'x', x);
  if (x.ndim === 0) throw new ShapeError('split', 'x', 'must have at least 1 dim, got a scalar');
  const a = normAxis('split', axis, x.ndim);
  const length = x.shape[a]!;
  let sizes: number[];
  if (typeof sizeOrSizes === 'number') {
    const size = sizeOrSizes;
    if (!Number.isInteger(size) || size < 1) throw new ShapeError('split', 'sizeOrSizes', `must be a positive integer, got ${size}`);
    const count = Math.max(1, Math.ceil(length / size));
    sizes = Array.from({ length: count }, (_, i) => Math.min(size, length - i * size));
  } else {
    sizes = [...sizeOrSizes];
    const sum = sizes.reduce((s, d) => s + d, 0);
    if (sizes.some((d) => !Number.isInteger(d) || d < 0) || sum !== length) {
      throw new ShapeError('split', 'sizeOrSizes', `must be non-negative integers adding up to ${length} (axis ${a} of ${formatShape(x.shape)}), got [${sizes.join(', ')}]`);
    }
  }
  let start = 0;
  return sizes.map((size) => {
    const piece = slice(x, a, start, start + size);
    start += size;
    return piece;
  });
}

/** torch.chunk: `chunks` pieces of equal size ceil(n / chunks) along `axis`, so possibly fewer. */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  checkTensor('chunk', 'x', x);
  if (!Number.isInteger(chunks) || chunks < 1) throw new ShapeError('chunk', 'chunks', `must be a positive integer, got ${chunks}`);
  if (x.ndim === 0) throw new ShapeError('chunk', 'x', 'must have at least 1 dim, got a scalar');
  const length = x.shape[normAxis('chunk', axis, x.ndim)]!;
  if (length === 0) return split(x, new Array<number>(chunks).fill(0), axis);
  return split(x, Math.ceil(length / chunks), axis);
}
