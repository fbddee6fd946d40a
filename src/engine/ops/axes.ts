// Axis arguments of the reductions and row ops, and the [outer, reduce, inner] view their kernels
// take: a contiguous tensor seen as outer blocks of `reduce` rows of `inner` elements.
import { ShapeError } from '../errors.js';
import { normAxis, type Shape, sizeOf } from '../shape.js';

export type AxisView = [outer: number, reduce: number, inner: number];

/** The view that reduces dims [start, end) of shape. */
export function axisView(shape: Shape, start: number, end: number): AxisView {
  return [sizeOf(shape.slice(0, start)), sizeOf(shape.slice(start, end)), sizeOf(shape.slice(end))];
}

/** One axis of a tensor; a 0-d tensor accepts 0 and -1, like torch, and has no axis to reduce. */
export function singleAxis(op: string, axis: number, ndim: number, arg = 'axis'): number | null {
  const a = normAxis(op, axis, Math.max(ndim, 1), arg);
  return ndim === 0 ? null : a;
}

/**
 * Normalised, sorted axes of a reduction: every axis when `axis` is undefined or an empty list
 * (torch's dim=None / dim=()); a repeated axis is an error.
 */
export function reductionAxes(op: string, axis: number | readonly number[] | undefined, ndim: number): number[] {
  if (axis === undefined || (Array.isArray(axis) && axis.length === 0)) return Array.from({ length: ndim }, (_, i) => i);
  const list: readonly number[] = Array.isArray(axis) ? axis : [axis as number];
  const axes: number[] = [];
  for (const a of list) {
    const n = singleAxis(op, a, ndim);
    if (n === null) continue;
    if (axes.includes(n)) throw new ShapeError(op, 'axis', `lists axis ${n} more than once in [${list.join(', ')}]`);
    axes.push(n);
  }
  return axes.sort((p, q) => p - q);
}

/** Groups sorted axes into runs of adjacent axes, each reduced by one kernel pass: [start, end). */
export function axisRuns(axes: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  return runs;
}
