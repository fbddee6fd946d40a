// where(cond, a, b) and maskedFill(x, mask, value), with broadcasting. Masks are int32 tensors in
// which any non-zero element selects; gradients flow to the float operands only.
import { record } from '../autograd.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkInt } from './check.js';
import { checkNumber } from './check-number.js';
import { full } from './creation.js';
import { planBroadcast } from './broadcast.js';
import { nativeKernel } from './native-kernel.js';
import { sumToShape } from './view.js';

type Buf = ArrayBuffer;
/** (cond, a, b, out, dims, strides) over a plan of [cond, a, b] from planBroadcast. */
const whereSelect = nativeKernel<(cond: Buf, a: Buf, b: Buf, out: Buf, dims: Int32Array, strides: Int32Array) => void>('whereSelect');

function select(op: string, names: readonly [string, string, string], cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const plan = planBroadcast(op, [
    [names[0], cond.shape],
    [names[1], a.shape],
    [names[2], b.shape],
  ]);
  const out = Tensor.empty(plan.shape);
  if (plan.size > 0) whereSelect(cond.buffer, a.buffer, b.buffer, out.buffer, plan.dims, plan.strides);
  return out;
}

/** A float operand, or a number as a 0-d tensor (which the caller disposes). */
function operand(op: string, arg: string, v: Tensor | number): Tensor {
  if (typeof v === 'number') return full([], v);
  if (v === null || typeof v !== 'object' || (v as { isTensor?: boolean }).isTensor !== true) {
    throw new DTypeError(op, arg, `must be a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  }
  return checkFloat(op, arg, v);
}

/** Elementwise cond ? a : b, all three broadcast together. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  checkInt('where', 'cond', cond);
  const ta = operand('where', 'a', a);
  let tb: Tensor;
  try {
    tb = operand('where', 'b', b);
  } catch (err) {
    if (ta !== a) ta.dispose();
    throw err;
  }
  let out: Tensor;
  try {
    out = select('where', ['cond', 'a', 'b'], cond, ta, tb);
  } finally {
    // Numbers were wrapped for the kernel only; as graph inputs they never need a gradient.
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
  return record(
    'where',
    out,
    [cond, ta, tb],
    (g, [, needA, needB], [c]) => [
      null,
      needA ? sumToShape(where(c!, g, 0), ta.shape) : null,
      needB ? sumToShape(where(c!, 0, g), tb.shape) : null,
    ],
    [cond],
  );
}

/** x with `value` wherever mask (int32, broadcast to x's shape) is non-zero. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkFloat('maskedFill', 'x', x);
  checkInt('maskedFill', 'mask', mask);
  checkNumber('maskedFill', 'value', value);
  const plan = planBroadcast('maskedFill', [
    ['x', x.shape],
    ['mask', mask.shape],
  ]);
  if (!sameShape(plan.shape, x.shape)) {
    throw new ShapeError('maskedFill', 'mask', `has shape ${formatShape(mask.shape)}, which does not broadcast to x's shape ${formatShape(x.shape)}`);
  }
  const fill = full([], value);
  const out = select('maskedFill', ['mask', 'value', 'x'], mask, fill, x);
  fill.dispose();
  return record('maskedFill', out, [x], (g, _needs, [m]) => [where(m!, 0, g)], [mask]);
}
