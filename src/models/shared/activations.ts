// transformers' ACT2FN names (config fields hidden_act / activation_function / activation) mapped to
// the engine's fused activations.
import { gelu, relu, sigmoid, silu, tanh } from '../../engine/ops/activation.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModelConfigError } from '../errors.js';

export type Activation = (x: Tensor) => Tensor;

const geluTanh: Activation = (x) => gelu(x, { approximate: 'tanh' });

const ACTIVATIONS: Record<string, Activation> = {
  gelu: (x) => gelu(x),
  gelu_new: geluTanh,
  gelu_fast: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  relu,
  silu,
  swish: silu,
  tanh,
  sigmoid,
};

/** The activation a config names; an unknown name raises a ModelConfigError naming the field. */
export function activation(name: string, field: string, source = 'config.json'): Activation {
  const fn = Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (fn === undefined) {
    throw new ModelConfigError(`${source}: "${field}" ${JSON.stringify(name)} is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  return fn;
}
