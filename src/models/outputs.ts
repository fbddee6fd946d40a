// What model forwards take and return, with transformers' argument names in camelCase.
import type { Tensor } from '../engine/tensor.js';

/**
 * Cached keys and values of one attention layer, [B, heads, S, headDim] each; with `length`, they are
 * preallocated [B, heads, capacity, headDim] buffers whose first `length` positions are filled.
 */
export interface LayerKV {
  key: Tensor;
  value: Tensor;
  length?: number;
}

export interface ModelInputs {
  inputIds?: Tensor;
  inputsEmbeds?: Tensor;
  /** [B, S] int32, 1 = attend, 0 = padding (S includes cached positions). */
  attentionMask?: Tensor;
  tokenTypeIds?: Tensor;
  positionIds?: Tensor;
  labels?: Tensor;
  startPositions?: Tensor;
  endPositions?: Tensor;
  decoderInputIds?: Tensor;
  decoderInputsEmbeds?: Tensor;
  decoderAttentionMask?: Tensor;
  /** Encoder output reused across decoder steps (seq2seq generation). */
  encoderHiddenStates?: Tensor;
  /** Per-layer caches from a previous call; the new keys/values are appended. */
  pastKeyValues?: LayerKV[];
  /** Return the updated cache in `pastKeyValues`. */
  useCache?: boolean;
  /** LM heads: logits for the last n positions only (generation needs 1); 0 or unset: every position. */
  logitsToKeep?: number;
  /**
   * Causal LMs given labels: also return the logits. When false (the default when training with grad mode on) and
   * the LM head is a bias-free Linear, the loss goes from the hidden states through the head weight a chunk of rows
   * at a time (linearCrossEntropy) and no [B, T, V] logits are formed.
   */
  returnLogits?: boolean;
}

export interface ModelOutput {
  loss?: Tensor;
  logits?: Tensor;
  startLogits?: Tensor;
  endLogits?: Tensor;
  lastHiddenState?: Tensor;
  poolerOutput?: Tensor;
  encoderLastHiddenState?: Tensor;
  pastKeyValues?: LayerKV[];
}
