// Gradient clipping by global L2 norm, with torch.nn.utils.clip_grad_norm_'s semantics: every
// gradient is scaled by min(maxNorm / (norm + 1e-6), 1). Both passes are single native calls over
// all gradients.
import { native, type NativeAddon } from '../native/binding.js';
import { DTypeError, EngineError } from '../engine/errors.js';
import { checkFloat } from '../engine/ops/check.js';
import type { Tensor } from '../engine/tensor.js';

interface GradNormKernels {
  sumOfSquares(buffers: ArrayBuffer[], sizes: Float64Array): number;
  scaleInPlace(buffers: ArrayBuffer[], sizes: Float64Array, factor: number): void;
}
const kernels = native as NativeAddon & GradNormKernels;

/** Scales the gradients of `params` in place so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const op = 'clipGradNorm';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new EngineError(op, 'maxNorm', `must be a non-negative number, got ${String(maxNorm)}`);
  }
  if (params === null || typeof (params as Partial<Iterable<Tensor>>)[Symbol.iterator] !== 'function') {
    throw new EngineError(op, 'params', `must be an iterable of tensors, got ${params === null ? 'null' : typeof params}`);
  }
  const grads: Tensor[] = [];
  let i = 0;
  for (const p of params) {
    checkFloat(op, `params[${i}]`, p);
    if (p.grad !== null) {
      p.grad.assertAlive(op, `params[${i}].grad`);
      if (p.grad.dtype !== 'float32') throw new DTypeError(op, `params[${i}].grad`, `must be float32, got ${p.grad.dtype}`);
      grads.push(p.grad);
    }
    i++;
  }
  if (grads.length === 0) return 0;
  const buffers = grads.map((g) => g.buffer);
  const sizes = Float64Array.from(grads, (g) => g.size);
  const norm = Math.sqrt(kernels.sumOfSquares(buffers, sizes));
  kernels.scaleInPlace(buffers, sizes, Math.min(maxNorm / (norm + 1e-6), 1));
  return norm;
}
