// Pieces of transformers' task heads shared by model families: the dense → tanh → out_proj
// sentence classification head, row pooling (last non-padding token of decoder-only classifiers)
// and the start/end split of extractive QA logits.
import { ShapeError } from '../../engine/errors.js';
import { fromArray } from '../../engine/ops/creation.js';
import { indexSelect } from '../../engine/ops/indexing.js';
import { tanh } from '../../engine/ops/activation.js';
import { reshape, slice } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { ModelConfigError } from '../errors.js';
import { thenDispose } from './attention.js';

/**
 * Hidden states [B, T, H] at each sequence's last non-padding token → [B, H]. As in transformers this
 * is the last position whose id is not pad_token_id (0 when all are padding); without input ids, or
 * without a pad token for a batch of one, it is the last position.
 */
export function poolLastNonPadToken(hidden: Tensor, inputIds: Tensor | undefined, padTokenId: number | null): Tensor {
  const [B, T] = hidden.shape as [number, number];
  if (padTokenId === null && B !== 1) {
    throw new ModelConfigError(`config.json: "pad_token_id" must be set to classify batches of more than one sequence (got a batch of ${B})`);
  }
  if (inputIds !== undefined && (inputIds.shape[0] !== B || inputIds.shape[1] !== T)) {
    throw new ShapeError('poolLastNonPadToken', 'inputIds', `must have shape [${B}, ${T}], got [${inputIds.shape.join(', ')}]`);
  }
  const ids = inputIds === undefined || padTokenId === null ? null : inputIds.data();
  const positions = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let last = ids === null ? T - 1 : 0;
    for (let t = 0; ids !== null && t < T; t++) if (ids[b * T + t] !== padTokenId) last = t;
    positions[b] = last;
  }
  return poolRows(hidden, positions);
}

/** Hidden states [B, T, H] at one position per sequence → [B, H]. */
export function poolRows(hidden: Tensor, positions: Int32Array): Tensor {
  const [B, T, H] = hidden.shape as [number, number, number];
  const flat = reshape(hidden, [B * T, H]);
  return thenDispose(indexSelect(flat, 0, fromArray(positions.map((t, b) => b * T + t))), flat);
}

/** dropout → dense → tanh → dropout → out_proj (RoBERTa's and T5's sequence classification head). */
export class ClassificationHead extends Module {
  constructor(hidden: number, numLabels: number, dropout: number) {
    super();
    this.registerModule('dense', new Linear(hidden, hidden));
    this.registerModule('dropout', new Dropout(dropout));
    this.registerModule('out_proj', new Linear(hidden, numLabels));
  }

  forward(x: Tensor): Tensor {
    const drop = this.child<Dropout>('dropout');
    const h = tanh(this.child<Linear>('dense').forward(drop.forward(x)));
    return this.child<Linear>('out_proj').forward(drop.forward(h));
  }
}

/** QA logits [B, T, 2] → start and end logits [B, T]. */
export function splitQaLogits(logits: Tensor): { startLogits: Tensor; endLogits: Tensor } {
  const [B, T] = logits.shape as [number, number];
  return {
    startLogits: reshape(slice(logits, 2, 0, 1), [B, T]),
    endLogits: reshape(slice(logits, 2, 1, 2), [B, T]),
  };
}
