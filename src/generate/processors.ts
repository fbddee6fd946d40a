// Logits processors that apply whether decoding is greedy or sampled, with transformers' semantics:
// repetition penalty, no-repeat n-grams and EOS suppression below a minimum length. Each works in
// place on the float32 rows of a [batch, vocab] scores tensor; ids outside the vocabulary are
// ignored, as transformers ignores them.
import { DTypeError, ShapeError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { nonNegativeInt, positiveInt, positiveNumber, tokenIds } from './config-fields.js';
import type { TokenHistory } from './token-history.js';

export interface LogitsProcessor {
  readonly name: string;
  /** Modifies `scores` ([batch, vocab] float32) in place, given each row's tokens so far. */
  process(scores: Tensor, history: TokenHistory): void;
}

/** The scores' data and dimensions, checked against the history. */
export function scoreRows(scores: Tensor, history: TokenHistory, op: string): { data: Float32Array; batch: number; vocab: number } {
  scores.assertAlive(op, 'scores');
  if (scores.dtype !== 'float32') throw new DTypeError(op, 'scores', `must be float32, got ${scores.dtype}`);
  if (scores.ndim !== 2 || scores.shape[0] !== history.batchSize) {
    throw new ShapeError(op, 'scores', `must have shape [${history.batchSize}, vocab] (one row per sequence), got [${scores.shape.join(', ')}]`);
  }
  return { data: scores.data() as Float32Array, batch: history.batchSize, vocab: scores.shape[1]! };
}

/**
 * Divides positive and multiplies negative scores of every token present in the row (prompt
 * included) by `penalty`, once per distinct token (float32 arithmetic, as in PyTorch).
 */
export function repetitionPenaltyProcessor(penalty: number): LogitsProcessor {
  const p = Math.fround(positiveNumber(penalty, { source: 'repetitionPenaltyProcessor', name: 'penalty' }));
  let gathered = new Float32Array(0);
  return {
    name: 'repetitionPenalty',
    process(scores, history) {
      const { data, batch, vocab } = scoreRows(scores, history, 'repetitionPenalty');
      if (gathered.length < history.length) gathered = new Float32Array(2 * history.length);
      for (let b = 0; b < batch; b++) {
        const ids = history.row(b);
        const base = b * vocab;
        // Gather every occurrence from the unpenalised row first, then scatter: repeats get the same value.
        for (let j = 0; j < ids.length; j++) {
          const id = ids[j]!;
          if (id < vocab) {
            const v = data[base + id]!;
            gathered[j] = v < 0 ? v * p : v / p;
          }
        }
        for (let j = 0; j < ids.length; j++) if (ids[j]! < vocab) data[base + ids[j]!] = gathered[j]!;
      }
    },
  };
}

/**
 * Bans (-inf) every token that would complete an n-gram already present in the row: for each
 * earlier position where the last n-1 tokens occur, the token that followed them there.
 */
export function noRepeatNgramProcessor(size: number): LogitsProcessor {
  const n = positiveInt(size, { source: 'noRepeatNgramProcessor', name: 'size' });
  return {
    name: 'noRepeatNgram',
    process(scores, history) {
      const { data, batch, vocab } = scoreRows(scores, history, 'noRepeatNgram');
      const len = history.length;
      if (len < n) return;
      const prefixStart = len - n + 1;
      for (let b = 0; b < batch; b++) {
        const ids = history.row(b);
        for (let s = 0; s + n <= len; s++) {
          let match = true;
          for (let j = 0; j < n - 1 && match; j++) match = ids[s + j] === ids[prefixStart + j];
          const banned = ids[s + n - 1]!;
          if (match && banned < vocab) data[b * vocab + banned] = -Infinity;
        }
      }
    },
  };
}

/** Sets the EOS scores to -inf while the rows (prompt included) are shorter than `minLength` tokens. */
export function minLengthProcessor(minLength: number, eosTokenIds: number | readonly number[]): LogitsProcessor {
  const min = nonNegativeInt(minLength, { source: 'minLengthProcessor', name: 'minLength' });
  const eos = tokenIds(eosTokenIds, { source: 'minLengthProcessor', name: 'eosTokenIds' });
  return {
    name: 'minLength',
    process(scores, history) {
      const { data, batch, vocab } = scoreRows(scores, history, 'minLength');
      if (history.length >= min) return;
      for (let b = 0; b < batch; b++) for (const id of eos) if (id < vocab) data[b * vocab + id] = -Infinity;
    },
  };
}
