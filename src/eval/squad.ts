// The SQuAD v1.1 answer scores (the official evaluation script's): answers are compared after
// normalisation — lower case, ASCII punctuation removed, the articles a/an/the removed, whitespace
// collapsed — by exact match and by the F1 of their bags of words; a prediction takes its best score
// over the gold answers, and the totals are percentages.

const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
/** Python's \b(a|an|the)\b on str, whose word characters are Unicode letters, digits and '_'. */
const ARTICLES = /(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu;

export function normalizeAnswer(text: string): string {
  const noPunctuation = [...text.toLowerCase()].filter((c) => !PUNCTUATION.has(c)).join('');
  return noPunctuation.replace(ARTICLES, ' ').split(/\s+/).filter((w) => w !== '').join(' ');
}

export function exactMatchScore(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

export function f1Score(prediction: string, gold: string): number {
  const predicted = normalizeAnswer(prediction).split(' ').filter((w) => w !== '');
  const wanted = normalizeAnswer(gold).split(' ').filter((w) => w !== '');
  const left = new Map<string, number>();
  for (const w of wanted) left.set(w, (left.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of predicted) {
    const n = left.get(w) ?? 0;
    if (n > 0) {
      same++;
      left.set(w, n - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predicted.length;
  const recall = same / wanted.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface SquadScores {
  /** Percentages, 0–100. */
  exactMatch: number;
  f1: number;
}

/** Mean best-over-gold scores of predictions[i] against golds[i] (each a non-empty list). */
export function squadScores(predictions: readonly string[], golds: readonly (readonly string[])[]): SquadScores {
  if (predictions.length !== golds.length) throw new TypeError(`squadScores: ${predictions.length} predictions for ${golds.length} questions`);
  if (predictions.length === 0) throw new TypeError('squadScores: no questions to score');
  let em = 0;
  let f1 = 0;
  predictions.forEach((p, i) => {
    const answers = golds[i]!;
    if (answers.length === 0) throw new TypeError(`squadScores: question ${i} has no gold answer`);
    em += Math.max(...answers.map((g) => exactMatchScore(p, g)));
    f1 += Math.max(...answers.map((g) => f1Score(p, g)));
  });
  return { exactMatch: (100 * em) / predictions.length, f1: (100 * f1) / predictions.length };
}
