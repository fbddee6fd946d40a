// One model input built from a record, before batching: token ids as Int32Arrays (no padding, no
// tensors), labels per token (-100 where no loss is taken) or one class id, segment ids for text
// pairs, answer positions for extractive QA.
import type { Side } from '../../tokenizers/index.js';
import type { Tokenizer } from '../../tokenizers/index.js';

/** The label id the loss ignores, as in PyTorch's cross_entropy and transformers. */
export const IGNORE_INDEX = -100;

export interface Example {
  inputIds: Int32Array;
  /** Per-token labels (IGNORE_INDEX where no loss is taken), or a class id. */
  labels?: Int32Array | number;
  /** Segment ids (token_type_ids) of a text pair. */
  tokenTypeIds?: Int32Array;
  startPositions?: number;
  endPositions?: number;
}

/** maxLength as given, else the tokenizer's model_max_length (Infinity when it sets none). */
export function resolveMaxLength(tokenizer: Tokenizer, maxLength: number | undefined, what: string): number {
  const n = maxLength ?? (tokenizer.modelMaxLength >= 1e30 ? Infinity : tokenizer.modelMaxLength);
  if (!(n === Infinity || (Number.isInteger(n) && n > 0))) throw new TypeError(`${what}: maxLength must be a positive integer, got ${maxLength}`);
  return n;
}

export function truncateIds(ids: readonly number[], keep: number, side: Side): number[] {
  if (ids.length <= keep) return [...ids];
  return side === 'right' ? ids.slice(0, Math.max(keep, 0)) : ids.slice(ids.length - Math.max(keep, 0));
}

/** A text's tokens truncated so that with the special tokens around them at most maxLength remain. */
export function encodeTruncated(tokenizer: Tokenizer, text: string, maxLength: number): number[] {
  const content = tokenizer.encode(text, { addSpecialTokens: false });
  const keep = maxLength - tokenizer.numSpecialTokensToAdd();
  if (keep < 0) throw new TypeError(`maxLength ${maxLength} leaves no room for the ${tokenizer.numSpecialTokensToAdd()} special tokens added to each text`);
  return tokenizer.buildInputsWithSpecialTokens(truncateIds(content, keep, tokenizer.truncationSide)).inputIds;
}
