// where(cond, a, b) and maskedFill(x, mask, value), with broadcasting. Masks are int32 tensors in
// which any non-zero element selects; gradients flow to the float operands only.
import { record } from '../autograd.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, type Shape, sameShape } from '../shape.js';
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

/** Runs the select kernel; number branches become 0-d tensors for the call only. */
function select(op: string, names: readonly [string, string, string], cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const shapeOf = (v: Tensor | number): Shape => (typeof v === 'number' ? [] : v.shape);
  const plan = planBroadcast(op, [
    [names[0], cond.shape],
    [names[1], shapeOf(a)],
    [names[2], shapeOf(b)],
  ]);
  const ta = typeof a === 'number' ? full([], a) : a;
  const tb = typeof b === 'number' ? full([], b) : b;
  const out = Tensor.empty(plan.shape);
  if (plan.size > 0) whereSelect(cond.buffer, ta.buffer, tb.buffer, out.buffer, plan.dims, plan.strides);
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return out;
}

function checkBranch(op: string, arg: string, v: Tensor | number): void {
  if (typeof v === 'number') return;
  if (v === null || typeof v !== 'object' || (v as { isTensor?: boolean }).isTensor !== true) {
    throw new DTypeError(op, arg, `must be a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  }
  checkFloat(op, arg, v);
}

/** Elementwise cond ? a : b, all three broadcast together. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  checkInt('where', 'cond', cond);
  checkBranch('where', 'a', a);
  checkBranch('where', 'b', b);
  const out = select('where', ['cond', 'a', 'b'], cond, a, b);
  // Tensor branches are the graph inputs; takesA[i] says which side input i is.
  const inputs: Tensor[] = [];
  const takesA: boolean[] = [];
  if (typeof a !== 'number') {
    inputs.push(a);
    takesA.push(true);
  }
  if (typeof b !== 'number') {
    inputs.push(b);
    takesA.push(false);
  }
  return record(
    'where',
    out,
    inputs,
    (g, needs, [c]) =>
      inputs.map((t, i) => (needs[i] ? sumToShape(takesA[i] ? where(c!, g, 0) : where(c!, 0, g), t.shape) : null)),
    [cond],
  );
}

/** x with `value` wherever mask (int32, broadcast to x's shape) is non-zero. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkFloat('maskedFill', 'x', x);
  checkInt('maskedFill', 'mask', mask);
  checkNumber('maskedFill', 'value', value);
  const { shape } = planBroadcast('maskedFill', [
    ['x', x.shape],
    ['mask', mask.shape],
  ]);
  if (!sameShape(shape, x.shape)) {
    throw new ShapeError('maskedFill', 'mask', `has shape ${formatShape(mask.shape)}, which does not broadcast to x's shape ${formatShape(x.shape)}`);
  }
  const out = select('maskedFill', ['mask', 'value', 'x'], mask, value, x);
  return record('maskedFill', out, [x], (g, _needs, [m]) => [where(m!, 0, g)], [mask]);
}
