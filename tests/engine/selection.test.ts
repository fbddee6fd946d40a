// argmax/topk integer results on ties and NaN, and topk's value gradient, against hand-worked values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, fromArray, type Tensor, topk } from '../../src/engine/index.js';

const ints = (t: Tensor) => [...t.toArray()];

test('argmax takes the first of tied maxima along an axis', () => {
  const x = fromArray([
    [1, 5, 5],
    [2, 2, 1],
    [7, 5, 7],
  ]);
  const rows = argmax(x, 1);
  assert.equal(rows.dtype, 'int32');
  assert.deepEqual([...rows.shape], [3]);
  assert.deepEqual(ints(rows), [1, 0, 0]);
  assert.deepEqual(ints(argmax(x, 0)), [2, 0, 2]);
  const kept = argmax(x, -1, true);
  assert.deepEqual([...kept.shape], [3, 1]);
});

test('argmax of the flattened tensor, and NaN ranks above every number', () => {
  assert.deepEqual(ints(argmax(fromArray([[0, 3], [9, 9]]))), [2]);
  assert.deepEqual([...argmax(fromArray([[0, 3], [9, 9]])).shape], []);
  assert.deepEqual(ints(argmax(fromArray([1, NaN, 3, NaN]))), [1]);
  assert.deepEqual([...argmax(fromArray([[0, 3]]), undefined, true).shape], [1, 1]);
});

test('topk sorts descending with ties in index order', () => {
  const { values, indices } = topk(fromArray([1, 2, 2, 2, 0]), 3);
  assert.equal(indices.dtype, 'int32');
  assert.deepEqual(ints(indices), [1, 2, 3]);
  assert.deepEqual(ints(values), [2, 2, 2]);
});

test('topk smallest sorts ascending; NaN comes first when largest and last when smallest', () => {
  const x = fromArray([1, NaN, 3, NaN, -1]);
  assert.deepEqual(ints(topk(x, 3).indices), [1, 3, 2]);
  assert.deepEqual(ints(topk(x, 4, { largest: false }).indices), [4, 0, 2, 1]);
});

test('topk along a middle axis', () => {
  // x[i, j, k] for shape [2, 3, 2]; top 2 along axis 1
  const x = fromArray([
    [[1, 6], [3, 5], [2, 4]],
    [[9, 0], [8, 0], [7, 1]],
  ]);
  const { values, indices } = topk(x, 2, { axis: 1 });
  assert.deepEqual([...indices.shape], [2, 2, 2]);
  assert.deepEqual(ints(indices), [1, 0, 2, 1, 0, 2, 1, 0]);
  assert.deepEqual(ints(values), [3, 6, 2, 5, 9, 1, 8, 0]);
  assert.deepEqual([...topk(x, 0, { axis: 1 }).indices.shape], [2, 0, 2]);
});

test('topk values pass their gradient to the selected positions only', () => {
  const x = fromArray([[0.5, -1, 3, 2], [4, 1, 1, 0]]).setRequiresGrad();
  const { values, indices } = topk(x, 2);
  assert.equal(indices.requiresGrad, false);
  values.backward(fromArray([[10, 20], [30, 40]]));
  // row 0 picks positions 2 then 3; row 1 picks 0 then 1 (tie with 2 goes to the lower index)
  assert.deepEqual(ints(x.grad!), [0, 0, 10, 20, 30, 40, 0, 0]);
});

/** Long rows of small integers (many ties) with a few NaNs, and a sort-based reference ranking. */
function tiedRows(rows: number, n: number): number[][] {
  const data = Array.from({ length: rows }, (_, r) => Array.from({ length: n }, (_, j) => ((j * 7919 + r * 104729) % 13) - 6));
  data[1]![700] = NaN;
  data[2]![40] = NaN;
  data[2]![900] = NaN;
  return data;
}

/** Positions in rank order: NaN above every number, equal values by index (sort is stable). */
function referenceRanking(row: number[], largest: boolean): number[] {
  const score = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const order = (a: number, b: number) => (a === b ? 0 : a > b ? -1 : 1);
  return row.map((_, j) => j).sort((i, j) => (largest ? 1 : -1) * order(score(row[i]!), score(row[j]!)));
}

test('argmax over long rows with ties and NaN, contiguous and strided', () => {
  const data = tiedRows(3, 1000);
  const x = fromArray(data);
  const expected = data.map((row) => referenceRanking(row, true)[0]!);
  assert.deepEqual(expected, [data[0]!.indexOf(6), 700, 40]);
  assert.deepEqual(ints(argmax(x, 1)), expected);
  const columns = fromArray(data[0]!.map((_, j) => data.map((row) => row[j]!)));
  assert.deepEqual(ints(argmax(columns, 0)), expected);
});

test('topk over long rows with ties and NaN matches a stable sort', () => {
  const data = tiedRows(3, 1000);
  const x = fromArray(data);
  for (const largest of [true, false]) {
    const got = ints(topk(x, 25, { largest }).indices);
    const expected = data.flatMap((row) => referenceRanking(row, largest).slice(0, 25));
    assert.deepEqual(got, expected, `largest=${largest}`);
  }
});
