import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, type DType, DTypeError, EngineError, fromArray, full, Generator, ones, rand, randn, scalar, ShapeError, Tensor, zeros } from '../../src/engine/index.js';

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

test('an unknown dtype is refused by every creation function, naming it', () => {
  const bad = 'float64' as DType;
  const expected = (op: string) => (e: Error) =>
    e instanceof DTypeError && e.message === `${op}: argument 'dtype' must be float32, float16, bfloat16 or int32, got 'float64'`;
  assert.throws(() => zeros([64, 64], bad), expected('zeros'));
  assert.throws(() => full([2], 1, bad), expected('full'));
  assert.throws(() => ones([2], bad), expected('ones'));
  assert.throws(() => arange(3, { dtype: bad }), expected('arange'));
  assert.throws(() => fromArray([1, 2], [2], bad), expected('fromArray'));
  assert.throws(() => Tensor.empty([2], bad), expected('empty'));
  assert.throws(() => Tensor.empty([2], 'toString' as DType), DTypeError);
  assert.throws(() => full([2], 1, 'float16'), /full: argument 'dtype' must be float32 or int32, got float16/);
});

test('fill values must be numbers; int32 ones integers in int32 range', () => {
  assert.throws(() => full([2], 'abc' as unknown as number), /full: argument 'value' must be a number, got string/);
  assert.throws(() => scalar('abc' as unknown as number), /scalar: argument 'value' must be a number/);
  assert.throws(() => full([1], 2 ** 33 + 5, 'int32'), /full: argument 'value' must be an integer in int32 range/);
  assert.throws(() => full([1], 1.5, 'int32'), /int32 range/);
  assert.throws(() => full([1], NaN, 'int32'), /int32 range/);
  assert.deepEqual([...full([2], -(2 ** 31), 'int32').toArray()], [-(2 ** 31), -(2 ** 31)]);
  assert.deepEqual([...full([3], NaN).toArray()], [NaN, NaN, NaN]);
  assert.equal(scalar(-Infinity).item(), -Infinity);
});

test('arange checks its bounds and, for int32, that every value fits', () => {
  assert.throws(() => arange(2 ** 31, 2 ** 31 + 3, { dtype: 'int32' }), /arange: argument 'start' must be an integer in int32 range/);
  assert.throws(() => arange(2 ** 31 - 2, 2 ** 31 + 3, { dtype: 'int32' }), /arange: argument 'end' takes the range past int32: its last value would be 2147483650/);
  assert.throws(() => arange(0, 3, { step: 0.5, dtype: 'int32' }), /arange: argument 'step' must be an integer/);
  assert.throws(() => arange(0, Infinity), /arange: argument 'end' must be a finite number/);
  assert.throws(() => arange('3' as unknown as number), /arange: argument 'end' must be a number, got string/);
  assert.deepEqual([...arange(2 ** 31 - 3, 2 ** 31, { dtype: 'int32' }).toArray()], [2 ** 31 - 3, 2 ** 31 - 2, 2 ** 31 - 1]);
  assert.deepEqual([...arange(3, 0, { step: -1, dtype: 'int32' }).toArray()], [3, 2, 1]);
});

test('fromArray refuses values its dtype cannot hold and keeps NaN and Infinity for floats', () => {
  assert.throws(() => fromArray([2 ** 31, 0], [2], 'int32'), /fromArray: argument 'data\[0\]' must be an integer in int32 range/);
  assert.throws(() => fromArray([1, NaN], [2], 'int32'), /argument 'data\[1\]' must be an integer in int32 range/);
  assert.throws(() => fromArray(new Float32Array([0.5]), [1], 'int32'), /data\[0\]/);
  assert.throws(() => fromArray(1.5, undefined, 'int32'), /fromArray: argument 'data' must be an integer/);
  assert.throws(() => fromArray([1, 'x'] as unknown as number[]), /fromArray: argument 'data\[1\]' must be a number, got string/);
  assert.throws(() => fromArray([[1, 2], [3, 'x']] as unknown as number[][]), /argument 'data\[1\]\[1\]' must be a number/);
  assert.throws(() => fromArray([1, , 3] as number[]), /argument 'data\[1\]' must be a number, got undefined/);
  assert.deepEqual([...fromArray([NaN, Infinity, -Infinity]).toArray()], [NaN, Infinity, -Infinity]);
  assert.deepEqual([...fromArray([[NaN, Infinity]], undefined, 'bfloat16').toArray()], [NaN, Infinity]);
  assert.deepEqual([...fromArray(new Int32Array([-(2 ** 31), 2 ** 31 - 1])).toArray()], [-(2 ** 31), 2 ** 31 - 1]);
});

test('fromArray refuses ragged nested arrays and data that is not numbers', () => {
  const ragged = /fromArray: argument 'data\[0\]\[1\]' must be a number \(nested arrays must be rectangular; the first elements give shape \[2, 2\]\), got an array/;
  assert.throws(() => fromArray([[1, [2]], [3, 4]] as unknown as number[][]), ragged);
  assert.throws(() => fromArray([[1, 2], [3]]), /argument 'data\[1\]' must be an array of 2 .*got an array of 1/);
  assert.throws(() => fromArray([[1, 2], 3] as unknown as number[][]), /argument 'data\[1\]' must be an array of 2 .*got 3/);
  assert.throws(() => fromArray('abc' as unknown as number[]), /fromArray: argument 'data' must be a number, an array or a numeric typed array, got 'abc'/);
  assert.throws(() => fromArray({ length: 3 } as unknown as number[]), /got an object/);
  assert.throws(() => fromArray(new BigInt64Array(2) as unknown as number[]), /numeric typed array/);
  assert.deepEqual([...fromArray([[], []]).shape], [2, 0]);
});

test('random fills check their parameters and generator', () => {
  assert.throws(() => randn([3], { std: 'x' as unknown as number }), /randn: argument 'std' must be a number, got string/);
  assert.throws(() => randn([3], { std: -1 }), /randn: argument 'std' must be non-negative, got -1/);
  assert.throws(() => randn([3], { mean: NaN }), /randn: argument 'mean' must be a finite number/);
  assert.throws(() => rand([3], { low: 'a' as unknown as number }), /rand: argument 'low' must be a number/);
  assert.throws(() => rand([3], { high: Infinity }), /rand: argument 'high' must be a finite number/);
  assert.throws(() => rand([3], { low: 2, high: 1 }), /rand: argument 'low' must not exceed high, got low 2 and high 1/);
  assert.throws(() => randn([3], { generator: {} as Generator }), (e: Error) => e instanceof EngineError && e.message === "randn: argument 'generator' must be a Generator, got an object");
  assert.throws(() => rand([3], { generator: 7 as unknown as Generator }), /rand: argument 'generator' must be a Generator, got 7/);
  assert.deepEqual([...randn([2], { std: 0, mean: 3, generator: new Generator(1) }).toArray()], [3, 3]);
  assert.deepEqual([...rand([2], { low: 5, high: 5, generator: new Generator(1) }).toArray()], [5, 5]);
});
