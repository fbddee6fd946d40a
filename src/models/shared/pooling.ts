// Picking one token's hidden state per sequence: the first ([CLS]) token of encoders, the last
// non-padding token of decoders (sequence classification on GPT-2, Llama, …), or given positions.
import { ShapeError } from '../../engine/errors.js';
import { fromArray } from '../../engine/ops/creation.js';
import { indexSelect } from '../../engine/ops/indexing.js';
import { reshape, slice } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModelConfigError } from '../errors.js';
import { thenDispose } from './attention.js';

/** hidden [B, T, H] → [B, H], row b taken at position positions[b]. */
export function selectPositions(hidden: Tensor, positions: ArrayLike<number>): Tensor {
  const [b, t, h] = hidden.shape as [number, number, number];
  const rows = fromArray(Int32Array.from({ length: b }, (_, i) => i * t + positions[i]!), [b], 'int32');
  const flat = reshape(hidden, [b * t, h]);
  return thenDispose(indexSelect(flat, 0, rows), flat);
}

/** hidden [B, T, H] → [B, n, H], its last n positions (transformers' logits_to_keep); 0 or undefined keeps all. */
export function lastPositions(hidden: Tensor, n: number | undefined, op: string): Tensor {
  if (n === undefined || n === 0) return hidden;
  const t = hidden.shape[1]!;
  if (!Number.isInteger(n) || n < 0) throw new ShapeError(op, 'logitsToKeep', `must be a non-negative integer, got ${n}`);
  return n >= t ? hidden : slice(hidden, 1, t - n);
}

/** hidden [B, T, H] → [B, H] at the first position. */
export function firstToken(hidden: Tensor): Tensor {
  return selectPositions(hidden, new Int32Array(hidden.shape[0]!));
}

/**
 * hidden [B, T, H] → [B, H] at transformers' pooling position for causal-model sequence
 * classification: per row, the highest position whose id is not the pad token (0 if every token is
 * padding). Without ids (inputs_embeds) it is the last position. Without a pad token only a batch
 * of one is accepted.
 */
export function lastNonPadToken(hidden: Tensor, inputIds: Tensor | undefined, padTokenId: number | null): Tensor {
  const [batch, length] = hidden.shape as [number, number];
  if (padTokenId === null && batch !== 1) {
    throw new ModelConfigError('"pad_token_id" is not set: sequence classification cannot find the last token of a batch larger than 1');
  }
  if (padTokenId === null || inputIds === undefined) return selectPositions(hidden, new Int32Array(batch).fill(length - 1));
  if (inputIds.shape[0] !== batch || inputIds.shape[1] !== length) {
    throw new ShapeError('lastNonPadToken', 'inputIds', `must have shape [${batch}, ${length}], got [${inputIds.shape.join(', ')}]`);
  }
  const ids = inputIds.data();
  const positions = Int32Array.from({ length: batch }, (_, b) => {
    for (let t = length - 1; t > 0; t--) if (ids[b * length + t] !== padTokenId) return t;
    return 0;
  });
  return selectPositions(hidden, positions);
}
