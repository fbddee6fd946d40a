// Activations: tanh, sigmoid, relu, gelu (both torch.nn.functional.gelu forms), silu. Each runs
// one native pass forward and one backward.
import { EngineError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { applyPointwise, pointwiseOp } from './pointwise.js';

const TANH = pointwiseOp('tanh', 'unaryTanh', 'output');
const SIGMOID = pointwiseOp('sigmoid', 'unarySigmoid', 'output');
const RELU = pointwiseOp('relu', 'unaryRelu', 'output');
const GELU_ERF = pointwiseOp('gelu', 'unaryGeluErf', 'input');
const GELU_TANH = pointwiseOp('gelu', 'unaryGeluTanh', 'input');
const SILU = pointwiseOp('silu', 'unarySilu', 'input');

export function tanh(x: Tensor): Tensor {
  return applyPointwise(TANH, x);
}

export function sigmoid(x: Tensor): Tensor {
  return applyPointwise(SIGMOID, x);
}

/** max(x, 0); the gradient at 0 is 0. */
export function relu(x: Tensor): Tensor {
  return applyPointwise(RELU, x);
}

export interface GeluOptions {
  /** 'none': x·Φ(x) with the exact normal CDF; 'tanh': the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new EngineError('gelu', 'approximate', `must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  return applyPointwise(approximate === 'tanh' ? GELU_TANH : GELU_ERF, x);
}

/** x·σ(x) (also known as swish). */
export function silu(x: Tensor): Tensor {
  return applyPointwise(SILU, x);
}
