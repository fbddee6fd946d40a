// Activations: tanh, sigmoid, relu, gelu (both torch.nn.functional.gelu forms), silu, and the gated
// silu(gate)·up. Each runs one native pass forward and one backward.
import { record } from '../autograd.js';
import { EngineError, ShapeError } from '../errors.js';
import { formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkOptions } from './check.js';
import { nativeKernel } from './native-kernel.js';
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

export function gelu(x: Tensor, options?: GeluOptions): Tensor {
  const approximate = checkOptions('gelu', options, ['approximate']).approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new EngineError('gelu', 'approximate', `must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  return applyPointwise(approximate === 'tanh' ? GELU_TANH : GELU_ERF, x);
}

/** x·σ(x) (also known as swish). */
export function silu(x: Tensor): Tensor {
  return applyPointwise(SILU, x);
}

type Buf = ArrayBuffer;
const siluMulKernel = nativeKernel<(gate: Buf, up: Buf, out: Buf, n: number) => void>('siluMul');
const siluMulGradKernel = nativeKernel<(gate: Buf, up: Buf, g: Buf, dgate: Buf | null, dup: Buf | null, n: number) => void>('siluMulGrad');

/** silu(gate)·up in one pass (the gated MLP of Llama-style models), and both gradients in one pass. */
export function siluMul(gate: Tensor, up: Tensor): Tensor {
  checkFloat('siluMul', 'gate', gate);
  checkFloat('siluMul', 'up', up);
  if (!sameShape(gate.shape, up.shape)) throw new ShapeError('siluMul', 'up', `must have the shape of gate ${formatShape(gate.shape)}, got ${formatShape(up.shape)}`);
  const out = Tensor.empty(gate.shape);
  if (out.size > 0) siluMulKernel(gate.buffer, up.buffer, out.buffer, out.size);
  return record(
    'siluMul',
    out,
    [gate, up],
    (g, [needGate, needUp], [sg, su]) => {
      const dgate = needGate ? Tensor.empty(gate.shape) : null;
      const dup = needUp ? Tensor.empty(up.shape) : null;
      if (g.size > 0) siluMulGradKernel(sg!.buffer, su!.buffer, g.buffer, dgate?.buffer ?? null, dup?.buffer ?? null, g.size);
      return [dgate, dup];
    },
    [gate, up],
  );
}
