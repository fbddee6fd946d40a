// torch.nn.LSTM with batch_first inputs: stacked layers, optionally bidirectional, dropout between layers in
// training, parameters named as torch names them (weight_ih_l0, weight_hh_l0_reverse, …), gates in torch's
// order (input, forget, cell, output). Built from engine ops, so autograd covers it.
import { sigmoid, tanh } from '../engine/ops/activation.js';
import { add, mul } from '../engine/ops/binary.js';
import { rand, zeros } from '../engine/ops/creation.js';
import { dropout } from '../engine/ops/dropout.js';
import { EngineError, ShapeError } from '../engine/errors.js';
import { chunk, concat, stack } from '../engine/ops/join.js';
import { linear } from '../engine/ops/linear.js';
import { reshape, slice } from '../engine/ops/view.js';
import { defaultGenerator, type Generator } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import type { LayerInit } from './linear.js';
import { Module } from './module.js';

export interface LSTMOptions extends LayerInit {
  numLayers?: number;
  /** Dropout on the outputs of every layer but the last, in training mode. */
  dropout?: number;
  bidirectional?: boolean;
}

export class LSTM extends Module {
  readonly numLayers: number;
  readonly dropout: number;
  readonly bidirectional: boolean;
  private readonly generator: Generator;

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: LSTMOptions = {},
  ) {
    super();
    this.numLayers = options.numLayers ?? 1;
    this.dropout = options.dropout ?? 0;
    this.bidirectional = options.bidirectional ?? false;
    this.generator = options.generator ?? defaultGenerator;
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1) throw new EngineError('LSTM', 'numLayers', `must be a positive integer, got ${this.numLayers}`);
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new EngineError('LSTM', 'dropout', `must be in [0, 1], got ${this.dropout}`);
    // torch's reset_parameters: every weight and bias from U(±1/√hidden).
    const bound = 1 / Math.sqrt(hiddenSize);
    const init = { low: -bound, high: bound, generator: options.generator };
    const dirs = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize * dirs;
      for (const suffix of this.directionSuffixes()) {
        this.registerParameter(`weight_ih_l${l}${suffix}`, rand([4 * hiddenSize, inSize], init));
        this.registerParameter(`weight_hh_l${l}${suffix}`, rand([4 * hiddenSize, hiddenSize], init));
        this.registerParameter(`bias_ih_l${l}${suffix}`, rand([4 * hiddenSize], init));
        this.registerParameter(`bias_hh_l${l}${suffix}`, rand([4 * hiddenSize], init));
      }
    }
  }

  private directionSuffixes(): string[] {
    return this.bidirectional ? ['', '_reverse'] : [''];
  }

  private param(name: string): Tensor {
    return this.parameter(name)!;
  }

  /** One direction of one layer over x [B, T, in] from zero states: the hidden states [B, T, H] in time order. */
  private runDirection(x: Tensor, layer: number, suffix: string): Tensor {
    const [b, t] = x.shape as [number, number, number];
    const h4 = 4 * this.hiddenSize;
    const gatesIn = linear(x, this.param(`weight_ih_l${layer}${suffix}`), this.param(`bias_ih_l${layer}${suffix}`));
    const wHh = this.param(`weight_hh_l${layer}${suffix}`);
    const bHh = this.param(`bias_hh_l${layer}${suffix}`);
    let h = zeros([b, this.hiddenSize]);
    let c = zeros([b, this.hiddenSize]);
    const outputs: Tensor[] = new Array<Tensor>(t);
    const reverse = suffix !== '';
    for (let step = 0; step < t; step++) {
      const pos = reverse ? t - 1 - step : step;
      const gates = add(reshape(slice(gatesIn, 1, pos, pos + 1), [b, h4]), linear(h, wHh, bHh));
      const [i, f, g, o] = chunk(gates, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
      c = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)));
      h = mul(sigmoid(o), tanh(c));
      outputs[pos] = h;
    }
    return stack(outputs, 1);
  }

  /** x [B, T, inputSize] → the last layer's hidden states [B, T, hiddenSize · directions] (torch's `output`). */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new ShapeError('LSTM.forward', 'x', `must be [batch, seq, ${this.inputSize}], got [${x.shape.join(', ')}]`);
    }
    let out = x;
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0 && this.dropout > 0) out = dropout(out, this.dropout, { training: this.training, generator: this.generator });
      const dirs = this.directionSuffixes().map((s) => this.runDirection(out, l, s));
      out = dirs.length === 1 ? dirs[0]! : concat(dirs, 2);
    }
    return out;
  }
}
