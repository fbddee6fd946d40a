import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, fromArray, full, Generator, ones, rand, randn, ShapeError, zeros } from '../../src/engine/index.js';

test('constants and ranges', () => {
  assert.deepEqual([...zeros([2, 2]).toArray()], [0, 0, 0, 0]);
  assert.deepEqual([...ones([3]).toArray()], [1, 1, 1]);
  assert.deepEqual([...full([2], 2.5).toArray()], [2.5, 2.5]);
  assert.deepEqual([...full([2], 7, 'int32').toArray()], [7, 7]);
  assert.deepEqual([...arange(4).toArray()], [0, 1, 2, 3]);
  assert.deepEqual([...arange(1, 2, { step: 0.25 }).toArray()], [1, 1.25, 1.5, 1.75]);
  assert.deepEqual([...arange(3, { dtype: 'int32' }).toArray()], [0, 1, 2]);
  assert.equal(arange(3, { dtype: 'int32' }).dtype, 'int32');
  assert.throws(() => arange(0, 1, { step: 0 }), ShapeError);
});

test('fromArray from nested arrays, flat data with a shape, and scalars', () => {
  const t = fromArray([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual([...t.shape], [2, 3]);
  assert.deepEqual([...fromArray([1, 2, 3, 4], [2, 2]).shape], [2, 2]);
  assert.equal(fromArray(5).ndim, 0);
  assert.equal(fromArray(5).item(), 5);
  assert.throws(() => fromArray([1, 2, 3], [2, 2]), /holds 4 elements but data has 3/);
});

test('seeded random fills are reproducible and depend on the seed', () => {
  const a = randn([1000], { generator: new Generator(42) }).toArray();
  const b = randn([1000], { generator: new Generator(42) }).toArray();
  const c = randn([1000], { generator: new Generator(43) }).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const gen = new Generator(7);
  const first = rand([10], { generator: gen }).toArray();
  const second = rand([10], { generator: gen }).toArray();
  assert.notDeepEqual(first, second, 'consecutive draws advance the stream');
  const state = { seed: 7, counter: 10 };
  assert.deepEqual(rand([10], { generator: new Generator().setState(state) }).toArray(), second, 'state restores the stream');
});

test('random fills have the requested distribution', () => {
  const n = 1_000_000;
  const normal = randn([n], { mean: 2, std: 3, generator: new Generator(1) }).toArray();
  let s = 0;
  let s2 = 0;
  for (const v of normal) {
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  const std = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean - 2) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(std - 3) < 0.01, `std ${std}`);
  const uniform = rand([n], { low: -1, high: 3, generator: new Generator(2) }).toArray();
  let lo = Infinity;
  let hi = -Infinity;
  let su = 0;
  for (const v of uniform) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    su += v;
  }
  assert.ok(lo >= -1 && hi < 3, `range [${lo}, ${hi}]`);
  assert.ok(Math.abs(su / n - 1) < 0.01, `uniform mean ${su / n}`);
});
