// Reductions: sum, mean (over any set of axes) and max (over one axis, gradient to the first
// maximum). Each run of adjacent reduced axes is one pass of the native [outer, reduce, inner]
// kernel; the reduced axes stay as size 1 until the end, so later runs keep their positions.
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { ShapeError } from '../errors.js';
import { formatShape, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { axisRuns, axisView, reductionAxes, singleAxis } from './axes.js';
import { checkFlag, checkFloat, checkOptions } from './check.js';

interface ReduceKernels {
  reduceSum(x: ArrayBuffer, y: ArrayBuffer, outer: number, reduce: number, inner: number, scale: number): void;
  reduceSumBackward(g: ArrayBuffer, dx: ArrayBuffer, outer: number, reduce: number, inner: number, scale: number): void;
  reduceMax(x: ArrayBuffer, values: ArrayBuffer, indices: ArrayBuffer, outer: number, reduce: number, inner: number): void;
  reduceMaxBackward(g: ArrayBuffer, indices: ArrayBuffer, dx: ArrayBuffer, outer: number, reduce: number, inner: number): void;
}
const kernels = native as unknown as ReduceKernels;

export interface ReduceOptions {
  /** Axes to reduce (negative counts from the end); all of them when omitted or empty. */
  axis?: number | readonly number[];
  /** Keep each reduced axis as size 1. */
  keepDim?: boolean;
}

export interface MaxOptions {
  axis: number;
  keepDim?: boolean;
}

function withOnes(shape: Shape, start: number, end: number): number[] {
  return shape.map((d, i) => (i >= start && i < end ? 1 : d));
}

/** Σ over the axes, times `scale`: the shared body of sum and mean. */
function scaledSum(op: 'sum' | 'mean', x: Tensor, options: ReduceOptions | undefined): Tensor {
  checkFloat(op, 'x', x);
  const { axis, keepDim: keep } = checkOptions(op, options, ['axis', 'keepDim']);
  const keepDim = checkFlag(op, 'keepDim', keep, false);
  const axes = reductionAxes(op, axis, x.ndim);
  const runs = axisRuns(axes);
  if (runs.length === 0) runs.push([x.ndim, x.ndim]);
  const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const scale = op === 'mean' ? 1 / count : 1;
  // shapes[k] is the input of pass k; the reduced axes become 1 one run at a time. The last pass
  // applies the scale, so a mean over an empty axis is 0 · ∞ = NaN wherever that axis sits.
  const shapes: number[][] = [[...x.shape]];
  for (const [s, e] of runs) shapes.push(withOnes(shapes[shapes.length - 1]!, s, e));

  let cur = x;
  runs.forEach(([s, e], k) => {
    const next = Tensor.empty(shapes[k + 1]!);
    kernels.reduceSum(cur.buffer, next.buffer, ...axisView(shapes[k]!, s, e), k === runs.length - 1 ? scale : 1);
    if (cur !== x) cur.dispose();
    cur = next;
  });
  const kept = shapes[shapes.length - 1]!;
  const out = cur.view(keepDim ? kept : x.shape.filter((_, i) => !axes.includes(i)));
  cur.dispose();

  return record(op, out, [x], (g) => {
    let grad = g.view(kept);
    for (let k = runs.length - 1; k >= 0; k--) {
      const [s, e] = runs[k]!;
      const wider = Tensor.empty(shapes[k]!);
      kernels.reduceSumBackward(grad.buffer, wider.buffer, ...axisView(shapes[k]!, s, e), k === runs.length - 1 ? scale : 1);
      grad.dispose();
      grad = wider;
    }
    return [grad];
  });
}

export function sum(x: Tensor, options?: ReduceOptions): Tensor {
  return scaledSum('sum', x, options);
}

/** Mean over the axes; an empty reduction gives NaN, like torch. */
export function mean(x: Tensor, options?: ReduceOptions): Tensor {
  return scaledSum('mean', x, options);
}

/** Largest value along one axis (NaN wins); the gradient goes to the first maximum. */
export function max(x: Tensor, options: MaxOptions): Tensor {
  checkFloat('max', 'x', x);
  const { axis: given, keepDim: keep } = checkOptions('max', options, ['axis', 'keepDim']);
  if (given === undefined) throw new ShapeError('max', 'axis', 'must be given (an integer axis)');
  const keepDim = checkFlag('max', 'keepDim', keep, false);
  const axis = singleAxis('max', given, x.ndim);
  const view = axis === null ? axisView([1], 0, 1) : axisView(x.shape, axis, axis + 1);
  if (view[1] === 0) throw new ShapeError('max', 'x', `has shape ${formatShape(x.shape)}: cannot take the max of empty axis ${axis}`);
  const kept = axis === null ? [] : withOnes(x.shape, axis, axis + 1);
  const values = Tensor.empty(kept);
  const indices = Tensor.empty(kept, 'int32');
  kernels.reduceMax(x.buffer, values.buffer, indices.buffer, ...view);
  const out = values.view(keepDim || axis === null ? kept : x.shape.filter((_, i) => i !== axis));
  values.dispose();
  record('max', out, [x], (g, _needs, [at]) => {
    const dx = Tensor.empty(x.shape);
    kernels.reduceMaxBackward(g.buffer, at!.buffer, dx.buffer, ...view);
    return [dx];
  }, [indices]);
  indices.dispose();
  return out;
}
