// transformers' build_inputs_with_special_tokens / create_token_type_ids_from_sequences for any
// post-processor: the post-processor runs on placeholder tokens, so wherever it puts a text's tokens
// the placeholders show, and everything else is a special token it added.
import { TokenizerError } from './errors.js';

/** A post-processor of @huggingface/tokenizers, called on token strings. */
export type PostProcessor = (tokens: string[], pair: string[] | null, addSpecialTokens: boolean) => unknown;

export interface EncodedInputs {
  inputIds: number[];
  /** Segment ids (token_type_ids) the post-processor assigns. */
  tokenTypeIds: number[];
  /** transformers' sequence_ids(): 0 or 1 for the tokens of the first or second text, null for special tokens. */
  sequenceIds: (0 | 1 | null)[];
}

interface Processed {
  tokens: string[];
  tokens_pair?: string[] | null;
  token_type_ids?: number[];
}

const placeholder = (seq: 0 | 1, i: number): string => `\u0000${seq}:${i}`;

export function buildModelInputs(
  postProcessor: PostProcessor | null,
  tokenToId: (token: string) => number | null,
  first: readonly number[],
  second: readonly number[] | null,
  name: string,
): EncodedInputs {
  const a = first.map((_, i) => placeholder(0, i));
  const b = second === null ? null : second.map((_, i) => placeholder(1, i));
  const out: Processed = postProcessor === null ? { tokens: [...a, ...(b ?? [])] } : (postProcessor(a, b, true) as Processed);
  // Some post-processors (ByteLevel alone) hand the pair back unmerged.
  const tokens = out.tokens_pair ? [...out.tokens, ...out.tokens_pair] : out.tokens;
  const inputIds: number[] = [];
  const sequenceIds: (0 | 1 | null)[] = [];
  for (const token of tokens) {
    const m = /^\u0000([01]):(\d+)$/.exec(token);
    if (m) {
      const seq = m[1] === '0' ? 0 : 1;
      inputIds.push((seq === 0 ? first : second!)[Number(m[2])]!);
      sequenceIds.push(seq);
      continue;
    }
    const id = tokenToId(token);
    if (id === null) throw new TokenizerError(`${name}: the post-processor adds ${JSON.stringify(token)}, which is not in the vocabulary`);
    inputIds.push(id);
    sequenceIds.push(null);
  }
  const tokenTypeIds = out.token_type_ids && out.token_type_ids.length === tokens.length ? out.token_type_ids : sequenceIds.map((s) => (s === 1 ? 1 : 0));
  return { inputIds, tokenTypeIds, sequenceIds };
}
