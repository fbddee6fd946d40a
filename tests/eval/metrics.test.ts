// Evaluation scores against values worked out by hand (the comments show the arithmetic).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracy, macroF1 } from '../../src/eval/classification-metrics.js';
import { bestAnswerSpan } from '../../src/eval/qa-spans.js';
import { exactMatchScore, f1Score, normalizeAnswer, squadScores } from '../../src/eval/squad.js';

test('accuracy and macro F1 over the labels in gold or predictions', () => {
  const gold = [0, 0, 1, 1, 2, 2];
  const predicted = [0, 1, 1, 1, 0, 3];
  // 3 of 6 right.
  assert.equal(accuracy(predicted, gold), 0.5);
  // label 0: tp 1, fp 1, fn 1 → 2/4; label 1: tp 2, fp 1 → 4/5; label 2: tp 0, fn 2 → 0;
  // label 3 (only predicted): fp 1 → 0. Mean of the four: (0.5 + 0.8) / 4 = 0.325.
  assert.ok(Math.abs(macroF1(predicted, gold) - 0.325) < 1e-12);
  assert.equal(macroF1([1, 1], [1, 1]), 1);
  assert.throws(() => accuracy([1], [1, 2]), /1 predictions for 2 gold labels/);
  assert.throws(() => macroF1([], []), /no labels to score/);
});

test('SQuAD normalisation, exact match, bag-of-words F1 and percent totals', () => {
  assert.equal(normalizeAnswer("The Cat's  hat!"), 'cats hat');
  assert.equal(normalizeAnswer('An apple, a day'), 'apple day');
  // Python's \b on str treats é as a word character: "thé" keeps its letters.
  assert.equal(normalizeAnswer('café the thé'), 'café thé');
  assert.equal(exactMatchScore('a cat sat.', 'Cat sat'), 1);
  // [black, cat, sat] vs [cat, sat, down]: 2 shared, precision 2/3, recall 2/3 → F1 2/3.
  assert.ok(Math.abs(f1Score('the black cat sat', 'a cat sat down') - 2 / 3) < 1e-12);
  // Repeated words count once per occurrence: [cat, cat] vs [cat]: 1 shared, P 1/2, R 1 → 2/3.
  assert.ok(Math.abs(f1Score('cat cat', 'cat') - 2 / 3) < 1e-12);
  assert.equal(f1Score('the', 'cat'), 0);
  // Question 1 matches its first answer exactly; question 2 matches nothing: 50% and 50%.
  assert.deepEqual(squadScores(['cat sat', 'x'], [['a cat sat', 'dog'], ['y']]), { exactMatch: 50, f1: 50 });
});

test('best answer span: top start/end pairs inside the context, length limit, best feature', () => {
  const context = 'hello big world';
  const offsets: ([number, number] | null)[] = [null, [0, 5], [6, 9], [10, 15]];
  const feature = { startLogits: [5, 1, 3, 0], endLogits: [5, 0, 1, 4], contextOffsets: offsets };
  // Token 0 is the question: skipped. Pairs: (2,3) 3+4 = 7 is the best → "big world".
  assert.deepEqual(bestAnswerSpan(context, [feature]), { text: 'big world', start: 6, end: 15, score: 7 });
  // One token at most: (2,2) 3+1 = 4 ties (3,3) 0+4 and comes first.
  assert.equal(bestAnswerSpan(context, [feature], { maxAnswerLength: 1 })!.text, 'big');
  // nBest 1: the only start candidate is the question token.
  assert.equal(bestAnswerSpan(context, [feature], { nBest: 1 }), null);
  const second = { startLogits: [0, 9, 0, 0], endLogits: [0, 1, 0, 0], contextOffsets: offsets };
  // (1,1) 9+1 = 10 beats the first feature's 7.
  assert.equal(bestAnswerSpan(context, [feature, second])!.text, 'hello');
});
