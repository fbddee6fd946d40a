// PEFT's MultiplicativeDropoutLayer for BOFT: in training, ⌊p · blocks⌋ of a layer's orthogonal blocks, picked at
// random, are replaced by the identity (their rotation is dropped); in evaluation the blocks pass through.
import { add, mul } from '../../../engine/ops/binary.js';
import { fromArray, rand } from '../../../engine/ops/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import { Module } from '../../../nn/module.js';
import { identity } from '../oft/rotation.js';

export class MultiplicativeDropout extends Module {
  constructor(readonly p: number) {
    super();
  }

  /** `blocks` [count, n, n], with the dropped ones replaced by the n×n identity. */
  forward(blocks: Tensor): Tensor {
    if (!this.training) return blocks;
    const [count, n] = [blocks.shape[0]!, blocks.shape[1]!];
    const dropped = Math.trunc(this.p * count);
    if (dropped === 0) return blocks;
    const draw = rand([count]).toArray();
    const order = [...draw.keys()].sort((a, b) => draw[a]! - draw[b]!);
    const mask = new Float32Array(count);
    for (const b of order.slice(0, dropped)) mask[b] = 1;
    const keep = new Float32Array(count).map((_, b) => 1 - mask[b]!);
    return add(mul(blocks, fromArray(keep, [count, 1, 1])), mul(identity(n), fromArray(mask, [count, 1, 1])));
  }
}
