// A tensor seen around one axis as [outer, n, inner]: the layout every along-axis kernel takes.
import type { Shape } from '../shape.js';
import { sizeOf } from '../shape.js';

export interface AxisLayout {
  outer: number;
  n: number;
  inner: number;
}

/** `axis` must already be normalised. */
export function aroundAxis(shape: Shape, axis: number): AxisLayout {
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}
