// transformers' ACT2FN names → engine activations. An unknown name is a config error naming the key.
import { gelu, relu, silu, tanh } from '../../engine/ops/activation.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModelConfigError } from '../errors.js';

export type Activation = (x: Tensor) => Tensor;

const ACTIVATIONS: Record<string, Activation> = {
  relu,
  silu,
  swish: silu,
  tanh,
  gelu: (x) => gelu(x),
  gelu_new: (x) => gelu(x, { approximate: 'tanh' }),
  gelu_pytorch_tanh: (x) => gelu(x, { approximate: 'tanh' }),
};

/** The activation called `name` in transformers; `key` and `source` name the config field for errors. */
export function activation(name: string, key: string, source = 'config.json'): Activation {
  const fn = ACTIVATIONS[name];
  if (fn === undefined) {
    throw new ModelConfigError(`${source}: "${key}" must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${JSON.stringify(name)}`);
  }
  return fn;
}
