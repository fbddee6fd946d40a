// Seeded data order: reproducible epochs, resuming from a saved {epoch, index}, dropLast, splits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataLoader, permutation, splitTrainValidation } from '../../../src/index.js';

const items = Array.from({ length: 10 }, (_, i) => i);
const loader = (opts: { seed?: number; shuffle?: boolean; dropLast?: boolean } = {}) => new DataLoader(items, { batchSize: 4, collate: (b: number[]) => b, ...opts });

test('permutation: a permutation fixed by (seed, epoch), different across seeds and epochs', () => {
  const p = [...permutation(1000, 7, 3)];
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual([...permutation(1000, 7, 3)], p);
  assert.notDeepEqual([...permutation(1000, 8, 3)], p);
  assert.notDeepEqual([...permutation(1000, 7, 4)], p);
  assert.notDeepEqual([...permutation(1000, 2 ** 40 + 7, 3)], p);
  assert.throws(() => permutation(3, -1), /seed must be a non-negative safe integer/);
});

test('DataLoader: epochs cover every example once, batches roll into the next epoch', () => {
  const l = loader({ seed: 1 });
  assert.equal(l.batchesPerEpoch, 3);
  const epoch0 = [...l.epoch()];
  assert.deepEqual(epoch0.map((b) => [b.epoch, b.step, b.batch.length]), [[0, 0, 4], [0, 1, 4], [0, 2, 2]]);
  assert.deepEqual(epoch0.flatMap((b) => b.batch).sort((a, b) => a - b), items);
  assert.deepEqual(epoch0.flatMap((b) => b.batch), [...l.epochOrder(0)]);
  assert.deepEqual(l.state, { epoch: 1, index: 0 });
  const next = l.next();
  assert.equal(next.epoch, 1);
  assert.notDeepEqual([...l.epochOrder(1)], [...l.epochOrder(0)]);
  assert.deepEqual(loader({ shuffle: false }).next().batch, [0, 1, 2, 3]);
});

test('DataLoader: same seed, same batches; a restored state resumes exactly', () => {
  const a = loader({ seed: 42 });
  const b = loader({ seed: 42 });
  const first = Array.from({ length: 7 }, () => a.next().batch);
  assert.deepEqual(Array.from({ length: 7 }, () => b.next().batch), first);
  const run = loader({ seed: 42 });
  for (let i = 0; i < 4; i++) run.next();
  const saved = run.state;
  assert.deepEqual(saved, { epoch: 1, index: 4 });
  const expected = Array.from({ length: 5 }, () => run.next().batch);
  const resumed = loader({ seed: 42 });
  resumed.loadState(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(Array.from({ length: 5 }, () => resumed.next().batch), expected);
  assert.throws(() => resumed.loadState({ epoch: 0, index: 3 }), /multiple of 4/);
  assert.throws(() => resumed.loadState({ epoch: -1, index: 0 }), TypeError);
});

test('DataLoader: dropLast skips the short batch; too few examples is an error', () => {
  const l = loader({ dropLast: true });
  assert.equal(l.batchesPerEpoch, 2);
  assert.deepEqual([...l.epoch()].map((b) => b.batch.length), [4, 4]);
  assert.deepEqual(l.state, { epoch: 1, index: 0 });
  assert.throws(() => new DataLoader([1, 2], { batchSize: 4, collate: (b) => b, dropLast: true }), /make no batch/);
  assert.throws(() => new DataLoader([1], { batchSize: 0, collate: (b) => b }), /batchSize must be a positive integer/);
});

test('splitTrainValidation: seeded, disjoint, original order kept, fraction or count', () => {
  const data = Array.from({ length: 100 }, (_, i) => `x${i}`);
  const { train, validation } = splitTrainValidation(data, { validationSize: 0.2, seed: 3 });
  assert.equal(validation.length, 20);
  assert.equal(train.length, 80);
  assert.deepEqual([...train, ...validation].sort(), [...data].sort());
  assert.deepEqual(validation, [...validation].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
  assert.deepEqual(splitTrainValidation(data, { validationSize: 0.2, seed: 3 }).validation, validation);
  assert.notDeepEqual(splitTrainValidation(data, { validationSize: 0.2, seed: 4 }).validation, validation);
  assert.equal(splitTrainValidation(data, { validationSize: 7 }).validation.length, 7);
  assert.throws(() => splitTrainValidation(data, { validationSize: 100 }), /validationSize must be/);
});
