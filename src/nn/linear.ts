// Linear (weight [out, in]) and transformers' Conv1D (GPT-2; weight [in, out]) layers.
import { linear } from '../engine/ops/linear.js';
import { rand, randn, zeros } from '../engine/ops/creation.js';
import type { Generator } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

export interface LayerInit {
  generator?: Generator;
}

export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerInit & { bias?: boolean } = {},
  ) {
    super();
    // torch.nn.Linear's default: kaiming-uniform(a=√5) ⇒ U(±1/√in) for weight and bias.
    const bound = 1 / Math.sqrt(inFeatures);
    const init = { low: -bound, high: bound, generator: options.generator };
    this.registerParameter('weight', rand([outFeatures, inFeatures], init));
    this.registerParameter('bias', options.bias ?? true ? rand([outFeatures], init) : null);
  }

  get weight(): Tensor {
    return this.parameter('weight')!;
  }

  get bias(): Tensor | null {
    return this.parameter('bias');
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** GPT-2's projection layer: a linear map whose weight is stored transposed, [in, out]. */
export class Conv1D extends Module {
  constructor(
    readonly outFeatures: number,
    readonly inFeatures: number,
    options: LayerInit = {},
  ) {
    super();
    this.registerParameter('weight', randn([inFeatures, outFeatures], { std: 0.02, generator: options.generator }));
    this.registerParameter('bias', zeros([outFeatures]));
  }

  get weight(): Tensor {
    return this.parameter('weight')!;
  }

  get bias(): Tensor | null {
    return this.parameter('bias');
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, { weightInOut: true });
  }
}
