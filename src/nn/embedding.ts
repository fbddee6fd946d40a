// Token/position lookup table: weight [numEmbeddings, dim]. A table stored in 16 bits (frozen weights,
// castLayerWeights) gives float32 rows.
import { isHalf } from '../engine/dtype.js';
import { toDtype } from '../engine/ops/cast.js';
import { embedding } from '../engine/ops/indexing.js';
import { randn } from '../engine/ops/creation.js';
import type { Tensor } from '../engine/tensor.js';
import type { LayerInit } from './linear.js';
import { Module } from './module.js';

export class Embedding extends Module {
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: LayerInit & { paddingIdx?: number } = {},
  ) {
    super();
    this.paddingIdx = options.paddingIdx;
    const weight = randn([numEmbeddings, embeddingDim], { generator: options.generator });
    if (this.paddingIdx !== undefined) weight.data().fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
    this.registerParameter('weight', weight);
  }

  readonly paddingIdx: number | undefined;

  get weight(): Tensor {
    return this.parameter('weight')!;
  }

  forward(ids: Tensor): Tensor {
    const rows = embedding(this.weight, ids, this.paddingIdx === undefined ? {} : { paddingIdx: this.paddingIdx });
    if (!isHalf(rows.dtype)) return rows;
    const widened = toDtype(rows, 'float32');
    rows.dispose();
    return widened;
  }
}
