// Token choice: greedy search picks the first maximum (as torch.argmax); sampling draws from
// softmax(scores) with a seeded Generator, one uniform number per row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, Generator } from '../../src/engine/index.js';
import { GenerationError, greedyTokens, sampleTokens } from '../../src/generate/index.js';

function tensor(rows: number[][]) {
  return fromArray(rows.flat(), [rows.length, rows[0]!.length]);
}

test('greedy: the first maximum of each row; NaN ranks highest, as in torch.argmax', () => {
  const scores = tensor([
    [1, 3, 3, 0],
    [-Infinity, -2, -Infinity, -3],
    [0, NaN, 5, NaN],
  ]);
  assert.deepEqual([...greedyTokens(scores)], [1, 1, 1]);
  scores.dispose();
});

test('sampling follows softmax(scores) and never draws a -inf entry', () => {
  const logits = [Math.log(0.5), Math.log(0.3), -Infinity, Math.log(0.15), Math.log(0.05)];
  const rows = 20000;
  const scores = tensor(Array.from({ length: rows }, () => logits));
  const counts = new Array<number>(logits.length).fill(0);
  for (const id of sampleTokens(scores, new Generator(11))) counts[id]!++;
  scores.dispose();
  assert.equal(counts[2], 0);
  [0.5, 0.3, 0, 0.15, 0.05].forEach((p, i) => {
    const sd = Math.sqrt((rows * p * (1 - p)) || 1);
    assert.ok(Math.abs(counts[i]! - rows * p) < 5 * sd, `token ${i}: ${counts[i]} draws, expected about ${rows * p}`);
  });
});

test('sampling is reproducible for a seed, differs between seeds and rows, and consumes one number per row', () => {
  const scores = tensor(Array.from({ length: 64 }, () => Array.from({ length: 50 }, (_, i) => Math.sin(i))));
  const a = new Generator(5);
  const first = sampleTokens(scores, a);
  assert.equal(a.getState().counter, 64);
  const second = sampleTokens(scores, a);
  assert.deepEqual([...sampleTokens(scores, new Generator(5))], [...first]);
  assert.notDeepEqual([...second], [...first], 'the generator moved on');
  assert.notDeepEqual([...sampleTokens(scores, new Generator(6))], [...first]);
  assert.ok(new Set(first).size > 10, 'identical rows draw independently');
  scores.dispose();
});

test('a row without a distribution is an error naming the row', () => {
  const scores = tensor([
    [0, 1],
    [-Infinity, -Infinity],
  ]);
  assert.throws(() => sampleTokens(scores, new Generator(0)), (e: unknown) => e instanceof GenerationError && /row 1/.test(e.message));
  scores.dispose();
  const nan = tensor([[0, NaN]]);
  assert.throws(() => sampleTokens(nan, new Generator(0)), /row 0/);
  nan.dispose();
  const flat = fromArray([1, 2, 3], [3]);
  assert.throws(() => greedyTokens(flat), /\[batch, vocab\]/);
  flat.dispose();
});
