// Argument checks shared by the ops: every tensor argument is alive and of the expected dtype
// before anything is handed to the native layer.
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** A live tensor of any dtype (ops that only move elements: index lookups, joins). */
export function checkTensor(op: string, arg: string, t: Tensor): Tensor {
  if (t === null || typeof t !== 'object' || (t as { isTensor?: boolean }).isTensor !== true) {
    throw new DTypeError(op, arg, `must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  return t.assertAlive(op, arg);
}

export function checkFloat(op: string, arg: string, t: Tensor): Tensor {
  checkTensor(op, arg, t);
  if (t.dtype !== 'float32') throw new DTypeError(op, arg, `must be float32, got ${t.dtype}`);
  return t;
}

export function checkInt(op: string, arg: string, t: Tensor): Tensor {
  checkTensor(op, arg, t);
  if (t.dtype !== 'int32') throw new DTypeError(op, arg, `must be int32, got ${t.dtype}`);
  return t;
}

export function checkMinRank(op: string, arg: string, t: Tensor, rank: number): void {
  if (t.ndim < rank) throw new ShapeError(op, arg, `must have at least ${rank} dims, got shape ${formatShape(t.shape)}`);
}
