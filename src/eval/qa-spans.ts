// The answer text of a question from the start/end logits of its features (context windows), as
// transformers' run_qa post-processing picks it: in each feature the nBest highest start and end
// logits are paired, pairs outside the context, ending before they start or longer than
// maxAnswerLength tokens are dropped, and the pair with the highest start + end logit over all the
// features gives the answer's character span in the context.

export interface QaFeatureLogits {
  startLogits: ArrayLike<number>;
  endLogits: ArrayLike<number>;
  /** Per token of the feature: its [start, end) in the context, or null outside the context. */
  contextOffsets: readonly ([number, number] | null)[];
}

export interface SpanOptions {
  /** Default 20. */
  nBest?: number;
  /** In tokens; default 30. */
  maxAnswerLength?: number;
}

export interface AnswerSpan {
  text: string;
  start: number;
  end: number;
  score: number;
}

/** Indices of the n largest values, largest first (ties: the later index first, as numpy's reversed argsort). */
function topIndices(values: ArrayLike<number>, length: number, n: number): number[] {
  const order = Array.from({ length }, (_, i) => i);
  order.sort((a, b) => values[b]! - values[a]! || b - a);
  return order.slice(0, n);
}

/** The best span over the features, or null when no feature has a valid one. */
export function bestAnswerSpan(context: string, features: readonly QaFeatureLogits[], opts: SpanOptions = {}): AnswerSpan | null {
  const nBest = opts.nBest ?? 20;
  const maxAnswerLength = opts.maxAnswerLength ?? 30;
  if (!(Number.isInteger(nBest) && nBest > 0)) throw new TypeError(`bestAnswerSpan: nBest must be a positive integer, got ${nBest}`);
  if (!(Number.isInteger(maxAnswerLength) && maxAnswerLength > 0)) throw new TypeError(`bestAnswerSpan: maxAnswerLength must be a positive integer, got ${maxAnswerLength}`);
  let best: AnswerSpan | null = null;
  for (const f of features) {
    const length = f.contextOffsets.length;
    for (const s of topIndices(f.startLogits, length, nBest)) {
      const from = f.contextOffsets[s];
      if (from === null || from === undefined) continue;
      for (const e of topIndices(f.endLogits, length, nBest)) {
        const to = f.contextOffsets[e];
        if (to === null || to === undefined || e < s || e - s + 1 > maxAnswerLength) continue;
        const score = f.startLogits[s]! + f.endLogits[e]!;
        if (best === null || score > best.score) best = { text: context.slice(from[0], to[1]), start: from[0], end: to[1], score };
      }
    }
  }
  return best;
}
