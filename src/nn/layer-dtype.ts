// Storage precision of the layer weights that products and lookups read (Linear, Conv1D and
// Embedding weights): bfloat16 or float16 halves their memory and the bytes decoding reads per
// token; the kernels widen them to float32, so compute stays float32. 16-bit weights are frozen
// (only float32 tensors take gradients); norms and biases stay float32.
import { toDtype } from '../engine/ops/cast.js';
import { keep } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import { DTYPE_BYTES } from '../engine/dtype.js';
import { EngineError } from '../engine/errors.js';
import { Embedding } from './embedding.js';
import { Conv1D, Linear } from './linear.js';
import type { Module } from './module.js';

export type WeightDType = 'float32' | 'bfloat16' | 'float16';

export interface CastReport {
  /** Weight tensors converted (a tied weight counts once). */
  tensors: number;
  /** Bytes those tensors took before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Stores every Linear, Conv1D and Embedding weight of `model` in `dtype`, shared (tied) weights
 * once. Call it on the base model before adding adapters, whose own layers would be converted too.
 */
export function castLayerWeights(model: Module, dtype: WeightDType): CastReport {
  if (dtype !== 'float32' && dtype !== 'bfloat16' && dtype !== 'float16') {
    throw new EngineError('castLayerWeights', 'dtype', `must be 'float32', 'bfloat16' or 'float16', got ${String(dtype)}`);
  }
  const owners = new Map<Tensor, Module[]>();
  for (const [, m] of model.namedModules()) {
    const w = m instanceof Linear || m instanceof Conv1D || m instanceof Embedding ? m.parameter('weight') : null;
    if (w === null || w.dtype === dtype) continue;
    owners.set(w, [...(owners.get(w) ?? []), m]);
  }
  const report: CastReport = { tensors: owners.size, bytesBefore: 0, bytesAfter: 0 };
  for (const [w, modules] of owners) {
    const cast = keep(toDtype(w, dtype));
    for (const m of modules) m.setParameter('weight', cast);
    report.bytesBefore += w.size * DTYPE_BYTES[w.dtype];
    report.bytesAfter += cast.size * DTYPE_BYTES[dtype];
    w.dispose();
  }
  return report;
}
