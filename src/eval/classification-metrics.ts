// Classification scores as scikit-learn computes them: accuracy_score, and f1_score(average='macro')
// — the unweighted mean of each label's F1 over the labels that occur in the gold or the predicted
// ids, a label's F1 being 2·tp / (2·tp + fp + fn).

function checkPairs(predicted: ArrayLike<number>, gold: ArrayLike<number>, what: string): void {
  if (predicted.length !== gold.length) throw new TypeError(`${what}: ${predicted.length} predictions for ${gold.length} gold labels`);
  if (gold.length === 0) throw new TypeError(`${what}: no labels to score`);
}

/** The fraction of predictions equal to their gold label. */
export function accuracy(predicted: ArrayLike<number>, gold: ArrayLike<number>): number {
  checkPairs(predicted, gold, 'accuracy');
  let right = 0;
  for (let i = 0; i < gold.length; i++) if (predicted[i] === gold[i]) right++;
  return right / gold.length;
}

/** Macro-averaged F1 over the labels present in either list. */
export function macroF1(predicted: ArrayLike<number>, gold: ArrayLike<number>): number {
  checkPairs(predicted, gold, 'macroF1');
  const counts = new Map<number, { tp: number; fp: number; fn: number }>();
  const of = (label: number) => counts.get(label) ?? counts.set(label, { tp: 0, fp: 0, fn: 0 }).get(label)!;
  for (let i = 0; i < gold.length; i++) {
    if (predicted[i] === gold[i]) {
      of(gold[i]!).tp++;
    } else {
      of(predicted[i]!).fp++;
      of(gold[i]!).fn++;
    }
  }
  let sum = 0;
  for (const { tp, fp, fn } of counts.values()) sum += (2 * tp) / (2 * tp + fp + fn);
  return sum / counts.size;
}
