// What generate accepts as prompts, turned into one padded batch of token ids and its attention mask:
// token ids (a row, rows, an int32 tensor, or { inputIds, attentionMask }), texts (encoded with the
// tokenizer) or chat conversations (rendered with its chat template, generation prompt added).
// Rows of different lengths are padded on `side` (left for decoder-only models) with the tokenizer's
// pad token, else the generation pad token.
import { Tensor } from '../engine/tensor.js';
import type { ChatMessage, RenderOptions } from '../tokenizers/chat-template.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { GenerationConfigError, GenerationError } from './errors.js';
import type { PromptBatch } from './prompt.js';

type Rows = readonly (readonly number[])[];

export type GenerateInputs =
  | string
  | readonly string[]
  | readonly ChatMessage[]
  | readonly (readonly ChatMessage[])[]
  | readonly number[]
  | Rows
  | Tensor
  | { inputIds: Rows | Tensor; attentionMask?: Rows | Tensor };

export interface PromptEncoding {
  tokenizer?: Tokenizer;
  /** Chat inputs: rendering options (addGenerationPrompt defaults to true). */
  chat?: RenderOptions;
  /** Text inputs: add the tokenizer's special tokens (BOS, …); default true, as transformers' tokenizer call. */
  addSpecialTokens?: boolean;
  /** Pad token when the tokenizer has none. */
  padTokenId: number | null;
  side: 'left' | 'right';
}

function tensorRows(t: Tensor, arg: string): number[][] {
  if (!(t instanceof Tensor) || t.dtype !== 'int32' || (t.ndim !== 1 && t.ndim !== 2)) {
    throw new GenerationError(`generate: ${arg} as a tensor must be int32 [length] or [batch, length], got ${t instanceof Tensor ? `${t.dtype} [${t.shape.join(', ')}]` : typeof t}`);
  }
  const data = Array.from(t.data());
  const width = t.shape[t.ndim - 1]!;
  const rows = t.ndim === 1 ? 1 : t.shape[0]!;
  return Array.from({ length: rows }, (_, r) => data.slice(r * width, (r + 1) * width));
}

function needTokenizer(enc: PromptEncoding, what: string): Tokenizer {
  if (enc.tokenizer === undefined) throw new GenerationConfigError('tokenizer', `generation options: ${what} prompts need a 'tokenizer' to encode them`);
  return enc.tokenizer;
}

const isMessage = (v: unknown): v is ChatMessage => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as ChatMessage).role === 'string';

/** `list` when it is a non-empty array, else an error saying what `arg` must be. */
function nonEmptyList<T>(list: readonly T[], arg: string, expected: string): readonly T[] {
  if (!Array.isArray(list) || list.length === 0) throw new GenerationError(`generate: ${arg} must be ${expected}`);
  return list;
}

/** Unpadded rows of token ids from texts or conversations (`encoded`), or given as ids. */
function encodeRows(list: readonly unknown[], enc: PromptEncoding): { rows: Rows; encoded: boolean } {
  nonEmptyList(list, 'inputs', 'a prompt or a non-empty list of prompts');
  const first = list[0];
  if (typeof first === 'string') {
    const tokenizer = needTokenizer(enc, 'text');
    const rows = list.map((text, i) => {
      if (typeof text !== 'string') throw new GenerationError(`generate: inputs[${i}] must be a string like the first prompt, got ${typeof text}`);
      if (text === '') throw new GenerationError(`generate: prompt ${i} is an empty string; give some text (or token ids, e.g. [bosTokenId], to generate without one)`);
      return tokenizer.encode(text, { addSpecialTokens: enc.addSpecialTokens ?? true });
    });
    return { rows, encoded: true };
  }
  const conversations = isMessage(first) ? [list] : Array.isArray(first) && isMessage(first[0]) ? list : null;
  if (conversations !== null) {
    const tokenizer = needTokenizer(enc, 'chat');
    const rows = conversations.map((c) => tokenizer.applyChatTemplate(c as ChatMessage[], { addGenerationPrompt: true, ...enc.chat, tokenize: true }));
    return { rows, encoded: true };
  }
  return { rows: typeof first === 'number' ? [list as number[]] : (list as Rows), encoded: false };
}

/**
 * Rows padded to one length, with their mask. Equal-length id rows given without a mask get none, so
 * that the decoding loop infers it from the pad token as transformers does; encoded texts get ones.
 */
function pad(rows: Rows, enc: PromptEncoding, encoded: boolean): PromptBatch {
  rows.forEach((row, b) => {
    if (!Array.isArray(row)) throw new GenerationError(`generate: prompt ${b} must be an array of token ids, got ${typeof row}`);
    if (row.length === 0) throw new GenerationError(`generate: prompt ${b} is empty; give at least one token`);
  });
  const width = Math.max(...rows.map((r) => r.length));
  if (rows.every((r) => r.length === width)) return encoded ? { inputIds: rows, attentionMask: rows.map((r) => r.map(() => 1)) } : { inputIds: rows };
  const padId = enc.tokenizer?.padTokenId ?? enc.padTokenId;
  if (padId === null) {
    throw new GenerationConfigError('padTokenId', "generation options: prompts of different lengths need a pad token: set 'padTokenId' (or give the tokenizer a pad_token)");
  }
  const left = enc.side === 'left';
  const fill = (n: number, v: number) => new Array<number>(n).fill(v);
  return {
    inputIds: rows.map((r) => (left ? [...fill(width - r.length, padId), ...r] : [...r, ...fill(width - r.length, padId)])),
    attentionMask: rows.map((r) => (left ? [...fill(width - r.length, 0), ...fill(r.length, 1)] : [...fill(r.length, 1), ...fill(width - r.length, 0)])),
  };
}

/** The prompt batch of `inputs`; a given attention mask is kept as is (with the ids unpadded). */
export function promptBatch(inputs: GenerateInputs, enc: PromptEncoding): PromptBatch {
  if (inputs instanceof Tensor) return pad(tensorRows(inputs, 'inputs'), enc, false);
  if (typeof inputs === 'object' && inputs !== null && 'inputIds' in inputs) {
    const ids = inputs.inputIds instanceof Tensor ? tensorRows(inputs.inputIds, 'inputIds') : nonEmptyList(inputs.inputIds, 'inputIds', 'a non-empty list of rows of token ids');
    const mask = inputs.attentionMask instanceof Tensor ? tensorRows(inputs.attentionMask, 'attentionMask') : inputs.attentionMask;
    return mask === undefined ? pad(ids, enc, false) : { inputIds: ids, attentionMask: mask };
  }
  const { rows, encoded } = encodeRows(typeof inputs === 'string' ? [inputs] : inputs, enc);
  return pad(rows, enc, encoded);
}
