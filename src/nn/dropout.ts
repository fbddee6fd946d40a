// Dropout that is active only in training mode, drawing from a seeded generator.
import { dropout } from '../engine/ops/dropout.js';
import { defaultGenerator, type Generator } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

export class Dropout extends Module {
  constructor(
    readonly p: number,
    readonly generator: Generator = defaultGenerator,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }
}
