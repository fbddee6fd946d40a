// Gradient routing that the golden fixtures (where every float input requires grad) do not cover:
// frozen operands, number operands, and reuse of one tensor on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, div, fromArray, maskedFill, mul, ones, sub, where } from '../../src/engine/index.js';

test('a frozen operand gets no gradient; the other gets its reduced one', () => {
  const x = fromArray([[1, 2, 3], [4, 5, 6]]).setRequiresGrad();
  const w = fromArray([10, 20, 30]);
  mul(x, w).backward(ones([2, 3]));
  assert.equal(w.grad, null);
  assert.deepEqual([...x.grad!.data()], [10, 20, 30, 10, 20, 30]);

  const b = fromArray([2, 4, 8]).setRequiresGrad();
  const frozen = fromArray([[1, 2, 3], [4, 5, 6]]);
  div(frozen, b).backward(ones([2, 3]));
  // d/db Σ_rows a/b = -Σ_rows a / b²
  assert.deepEqual([...b.grad!.data()], [-5 / 4, -7 / 16, -9 / 64]);
});

test('number operands pass the gradient to the tensor only', () => {
  const x = fromArray([1, -2, 3]).setRequiresGrad();
  const y = sub(div(mul(add(x, 1), 3), 2), 5); // ((x + 1)·3/2) - 5
  y.backward(ones([3]));
  assert.deepEqual([...x.grad!.data()], [1.5, 1.5, 1.5]);
});

test('a tensor used on both sides accumulates both gradients', () => {
  const x = fromArray([1, 2, 3]).setRequiresGrad();
  mul(x, x).backward(ones([3]));
  assert.deepEqual([...x.grad!.data()], [2, 4, 6]);
});

test('where with number branches and maskedFill route gradients through the unselected elements', () => {
  const cond = fromArray(new Int32Array([1, 0, 1, 0]), [4]);
  const a = fromArray([1, 2, 3, 4]).setRequiresGrad();
  where(cond, a, 0).backward(fromArray([5, 6, 7, 8]));
  assert.deepEqual([...a.grad!.data()], [5, 0, 7, 0]);

  const both = fromArray([1, 2, 3, 4]).setRequiresGrad();
  where(cond, both, both).backward(fromArray([5, 6, 7, 8]));
  assert.deepEqual([...both.grad!.data()], [5, 6, 7, 8]);

  const x = fromArray([[1, 2], [3, 4]]).setRequiresGrad();
  const mask = fromArray(new Int32Array([0, 1]), [2]);
  const y = maskedFill(x, mask, -100);
  assert.deepEqual([...y.data()], [1, -100, 3, -100]);
  y.backward(fromArray([[1, 2], [3, 4]]));
  assert.deepEqual([...x.grad!.data()], [1, 0, 3, 0]);
});
