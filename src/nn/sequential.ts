// torch.nn.Sequential (children "0", "1", … applied in order) and the parameter-free activation layers PEFT's prompt
// encoders put in them.
import { relu, tanh } from '../engine/ops/activation.js';
import type { Tensor } from '../engine/tensor.js';
import { Module, ModuleList } from './module.js';

interface TensorLayer extends Module {
  forward(x: Tensor): Tensor;
}

export class Sequential extends ModuleList<TensorLayer> {
  forward(x: Tensor): Tensor {
    let out = x;
    for (const layer of this) out = layer.forward(out);
    return out;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}
