// Products whose inner dim K is 0 (the sum of no products is 0, so only the bias remains), products
// with an empty outer dim, and options of the wrong type, which the kernels would misread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, fromArray, full, linear, matmul, ones, sum, type Tensor, toDtype, zeros } from '../../src/engine/index.js';

/** Frees a buffer of stale values into the pool, for an output that skipped its writes to pick up. */
function leaveStale(size: number): void {
  full([size], 7777).dispose();
}

const values = (t: Tensor) => [...t.toArray()];

test('matmul over an empty inner dim is zeros, batched or not, and its gradients are empty', () => {
  leaveStale(6);
  assert.deepEqual(values(matmul(zeros([2, 0]), zeros([0, 3]))), [0, 0, 0, 0, 0, 0]);
  leaveStale(12);
  assert.deepEqual(values(matmul(zeros([2, 2, 0]), zeros([0, 3]), { alpha: 2 })), new Array(12).fill(0));
  leaveStale(6);
  assert.deepEqual(values(matmul(zeros([0, 2]), zeros([3, 0]), { transA: true, transB: true })), [0, 0, 0, 0, 0, 0]);
  const a = zeros([2, 2, 0]).setRequiresGrad();
  const b = zeros([0, 3]).setRequiresGrad();
  sum(matmul(a, b)).backward();
  assert.deepEqual([a.grad!.shape, b.grad!.shape], [[2, 2, 0], [0, 3]]);
});

test('matmul with an empty output column dim gives zero gradients to a batched a', () => {
  const a = ones([2, 2, 3]).setRequiresGrad();
  const b = zeros([3, 0]).setRequiresGrad();
  const y = matmul(a, b);
  assert.deepEqual(y.shape, [2, 2, 0]);
  leaveStale(12);
  sum(y).backward();
  assert.deepEqual(values(a.grad!), new Array(12).fill(0));
  assert.deepEqual(b.grad!.shape, [3, 0]);
});

test('linear with no input features gives the bias, for float32 and 16-bit weights', () => {
  for (const dtype of ['float32', 'bfloat16', 'float16'] as const) {
    for (const weightInOut of [false, true]) {
      const label = `${dtype}${weightInOut ? ', weightInOut' : ''}`;
      const w = toDtype(zeros(weightInOut ? [0, 3] : [3, 0]), dtype);
      leaveStale(6);
      assert.deepEqual(values(linear(zeros([2, 0]), w, null, { weightInOut })), [0, 0, 0, 0, 0, 0], label);
      const x = zeros([2, 0]).setRequiresGrad();
      const bias = fromArray([1, 2, 3]).setRequiresGrad();
      const y = linear(x, w, bias, { weightInOut });
      assert.deepEqual(values(y), [1, 2, 3, 1, 2, 3], label);
      sum(y).backward();
      assert.deepEqual(x.grad!.shape, [2, 0], label);
      assert.deepEqual(values(bias.grad!), [2, 2, 2], label);
    }
  }
  const x = zeros([2, 0]).setRequiresGrad();
  const w = zeros([3, 0]).setRequiresGrad();
  sum(linear(x, w)).backward();
  assert.deepEqual(w.grad!.shape, [3, 0]);
});

test('matmul and linear refuse options of the wrong type instead of misreading them', () => {
  const a = fromArray([[1, 2], [3, 4], [5, 6]]);
  const b = fromArray([[1, 0], [0, 1], [0, 0]]);
  const named = (arg: string) => (e: unknown) => e instanceof EngineError && e.arg === arg;
  assert.throws(() => matmul(a, b, { alpha: '2' as unknown as number }), named('options.alpha'));
  assert.throws(() => matmul(a, b, { alpha: Number.NaN }), named('options.alpha'));
  assert.throws(() => matmul(a, b, { transA: 1 as unknown as boolean }), /matmul: argument 'options.transA' must be a boolean, got 1/);
  assert.throws(() => matmul(a, a, { transB: 'yes' as unknown as boolean }), named('options.transB'));
  assert.throws(() => matmul(a, b, { transa: true } as never), /matmul: argument 'options.transa' is not an option/);
  assert.throws(() => matmul(a, b, 'T' as never), /matmul: argument 'options' must be an object/);
  assert.deepEqual(values(matmul(a, b, { transA: true })), [1, 3, 2, 4]);
  assert.deepEqual(values(matmul(a, fromArray([[1, 0], [0, 1]]), null as never)), values(a));
  const w = toDtype(fromArray([[1, 2, 3], [4, 5, 6]]), 'bfloat16');
  assert.throws(() => linear(fromArray([[1, 0]]), w, null, { weightInOut: 1 as unknown as boolean }), /linear: argument 'options.weightInOut' must be a boolean/);
  assert.deepEqual(values(linear(fromArray([[1, 0]]), w, null, { weightInOut: true })), [1, 2, 3]);
});
