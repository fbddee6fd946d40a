// softmax and logSoftmax along one axis: one fused native pass per row (max, exp-sum, normalise).
// Both save their output; the backward needs nothing else.
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { axisView, type AxisView, singleAxis } from './axes.js';
import { checkFloat } from './check.js';

interface SoftmaxKernels {
  softmaxForward(x: ArrayBuffer, y: ArrayBuffer, outer: number, n: number, inner: number, log: boolean): void;
  softmaxBackward(g: ArrayBuffer, y: ArrayBuffer, dx: ArrayBuffer, outer: number, n: number, inner: number, log: boolean): void;
}
const kernels = native as unknown as SoftmaxKernels;

function normalizeAlong(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  checkFloat(op, 'x', x);
  const a = singleAxis(op, axis, x.ndim);
  const view: AxisView = a === null ? [1, 1, 1] : axisView(x.shape, a, a + 1);
  const log = op === 'logSoftmax';
  const y = Tensor.empty(x.shape);
  kernels.softmaxForward(x.buffer, y.buffer, ...view, log);
  return record(op, y, [x], (g, _needs, [saved]) => {
    const dx = Tensor.empty(x.shape);
    kernels.softmaxBackward(g.buffer, saved!.buffer, dx.buffer, ...view, log);
    return [dx];
  }, [y]);
}

/** exp(x) / Σ exp(x) along `axis`. Backward: y · (g - Σ g·y). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return normalizeAlong('softmax', x, axis);
}

/** x - log Σ exp(x) along `axis`. Backward: g - exp(y) · Σ g. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return normalizeAlong('logSoftmax', x, axis);
}
