// Pieces of transformers' task heads shared by model families: last-non-padding-token pooling of
// decoder-only sequence classifiers and the start/end split of extractive QA logits.
import { ShapeError } from '../../engine/errors.js';
import { fromArray } from '../../engine/ops/creation.js';
import { indexSelect } from '../../engine/ops/indexing.js';
import { reshape, slice } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModelConfigError } from '../errors.js';

/**
 * Hidden states [B, T, H] at each sequence's last non-padding token → [B, H]. As in transformers this
 * is the last position whose id is not pad_token_id (0 when all are padding); without input ids, or
 * without a pad token for a batch of one, it is the last position.
 */
export function poolLastNonPadToken(hidden: Tensor, inputIds: Tensor | undefined, padTokenId: number | null): Tensor {
  const [B, T, H] = hidden.shape as [number, number, number];
  if (padTokenId === null && B !== 1) {
    throw new ModelConfigError(`config.json: "pad_token_id" must be set to classify batches of more than one sequence (got a batch of ${B})`);
  }
  if (inputIds !== undefined && (inputIds.shape[0] !== B || inputIds.shape[1] !== T)) {
    throw new ShapeError('poolLastNonPadToken', 'inputIds', `must have shape [${B}, ${T}], got [${inputIds.shape.join(', ')}]`);
  }
  const ids = inputIds === undefined || padTokenId === null ? null : inputIds.data();
  const rows = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let last = ids === null ? T - 1 : 0;
    for (let t = 0; ids !== null && t < T; t++) if (ids[b * T + t] !== padTokenId) last = t;
    rows[b] = b * T + last;
  }
  return indexSelect(reshape(hidden, [B * T, H]), 0, fromArray(rows));
}

/** QA logits [B, T, 2] → start and end logits [B, T]. */
export function splitQaLogits(logits: Tensor): { startLogits: Tensor; endLogits: Tensor } {
  const [B, T] = logits.shape as [number, number];
  return {
    startLogits: reshape(slice(logits, 2, 0, 1), [B, T]),
    endLogits: reshape(slice(logits, 2, 1, 2), [B, T]),
  };
}
