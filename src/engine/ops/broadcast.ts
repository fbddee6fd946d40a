// Plans a broadcasting elementwise op for the native segment walker (src/native/broadcast.h):
// the NumPy-broadcast result shape, and the result dims merged wherever every operand's layout
// continues across them, with each operand's stride per merged dim (0 where it broadcasts).
import { ShapeError } from '../errors.js';
import { formatShape, type Shape, sizeOf } from '../shape.js';
import { nativeInts } from './native-ints.js';

export interface BroadcastPlan {
  /** The broadcast result shape. */
  shape: number[];
  size: number;
  /** Merged result dims, outer to inner (at least one). */
  dims: Int32Array;
  /** Operand-major: strides[k * dims.length + d] is operand k's element stride along dims[d]. */
  strides: Int32Array;
}

/** `operands` are [argument name, shape] pairs; a shape that cannot broadcast is named in the error. */
export function planBroadcast(op: string, operands: readonly (readonly [string, Shape])[]): BroadcastPlan {
  let shape: number[] = [];
  for (const [arg, s] of operands) shape = broadcastWith(op, arg, shape, s);
  const nd = shape.length;
  const full = operands.map(([, s]) => {
    const padded = [...new Array<number>(nd - s.length).fill(1), ...s];
    const strides = new Array<number>(nd);
    let step = 1;
    for (let d = nd - 1; d >= 0; d--) {
      strides[d] = padded[d] === 1 ? 0 : step;
      step *= padded[d]!;
    }
    return strides;
  });
  // Inner to outer: a dim joins the run inside it when every operand's stride continues it.
  const dims: number[] = [];
  const merged: number[][] = operands.map(() => []);
  for (let d = nd - 1; d >= 0; d--) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && full.every((st, k) => st[d] === merged[k]![last]! * dims[last]!)) {
      dims[last] = dims[last]! * size;
    } else {
      dims.push(size);
      full.forEach((st, k) => merged[k]!.push(st[d]!));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    merged.forEach((m) => m.push(0));
  }
  dims.reverse();
  return {
    shape,
    size: sizeOf(shape),
    dims: nativeInts(dims),
    strides: nativeInts(merged.flatMap((m) => m.reverse())),
  };
}

function broadcastWith(op: string, arg: string, acc: Shape, s: Shape): number[] {
  const nd = Math.max(acc.length, s.length);
  const out = new Array<number>(nd);
  for (let i = 0; i < nd; i++) {
    const da = acc[acc.length - nd + i] ?? 1;
    const ds = s[s.length - nd + i] ?? 1;
    if (da !== ds && da !== 1 && ds !== 1) {
      throw new ShapeError(op, arg, `has shape ${formatShape(s)}, which does not broadcast with ${formatShape(acc)}`);
    }
    out[i] = da === 1 ? ds : da;
  }
  return out;
}
