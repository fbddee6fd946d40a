// Picking one token's hidden state per sequence: the first ([CLS]) token of encoders, or the last
// non-padding token of decoders (sequence classification on GPT-2, Llama, …).
import { fromArray } from '../../engine/ops/creation.js';
import { indexSelect } from '../../engine/ops/indexing.js';
import { reshape, slice } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { ShapeError } from '../../engine/errors.js';
import { ModelConfigError } from '../errors.js';

/** hidden [B, T, H] → [B, H], row b taken at position positions[b]. */
export function selectPositions(hidden: Tensor, positions: readonly number[]): Tensor {
  const [b, t, h] = hidden.shape as [number, number, number];
  const rows = fromArray(Int32Array.from(positions, (p, i) => i * t + p), [b], 'int32');
  return indexSelect(reshape(hidden, [b * t, h]), 0, rows);
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
  return selectPositions(hidden, new Array<number>(hidden.shape[0]!).fill(0));
}

/**
 * transformers' pooling position for causal-model sequence classification: per row, the highest
 * position whose id is not the pad token (0 if every token is padding). Without ids (inputs_embeds)
 * it is the last position. Without a pad token only a batch of one is accepted.
 */
export function lastNonPadPositions(inputIds: Tensor | undefined, padTokenId: number | null, batch: number, length: number): number[] {
  if (padTokenId === null && batch !== 1) {
    throw new ModelConfigError('"pad_token_id" is not set: sequence classification cannot find the last token of a batch larger than 1');
  }
  if (padTokenId === null || inputIds === undefined) return new Array<number>(batch).fill(length - 1);
  const ids = inputIds.data();
  return Array.from({ length: batch }, (_, b) => {
    for (let t = length - 1; t > 0; t--) if (ids[b * length + t] !== padTokenId) return t;
    return 0;
  });
}
