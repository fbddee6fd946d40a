// Normalisation layers over the last dim: LayerNorm (weight + bias) and RMSNorm (Llama/T5: weight only).
import { ones, zeros } from '../engine/ops/creation.js';
import { layerNorm, rmsNorm } from '../engine/ops/norm.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

export class LayerNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
    options: { bias?: boolean } = {},
  ) {
    super();
    this.registerParameter('weight', ones([dim]));
    this.registerParameter('bias', options.bias ?? true ? zeros([dim]) : null);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.parameter('weight'), this.parameter('bias'), this.eps);
  }
}

export class RMSNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.registerParameter('weight', ones([dim]));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.parameter('weight'), this.eps);
  }
}
