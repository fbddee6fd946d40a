import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, DTypeError, EngineError, fromArray, linear, mul, noGrad, scope, sum } from '../../src/engine/index.js';

test('gradients accumulate across backward calls until zeroGrad', () => {
  const x = fromArray([1, 2, 3]).setRequiresGrad();
  scope(() => sum(mul(x, x)).backward());
  assert.deepEqual([...x.grad!.toArray()], [2, 4, 6]);
  scope(() => sum(mul(x, 3)).backward());
  assert.deepEqual([...x.grad!.toArray()], [5, 7, 9]);
  x.zeroGrad();
  assert.equal(x.grad, null);
});

test('a tensor used twice receives the sum of both paths', () => {
  const x = fromArray([2]).setRequiresGrad();
  scope(() => sum(add(mul(x, x), mul(x, 5))).backward());
  assert.deepEqual([...x.grad!.toArray()], [9]);
});

test('noGrad records nothing and detach cuts the graph', () => {
  const x = fromArray([1, 2]).setRequiresGrad();
  const y = noGrad(() => mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const d = mul(x, 2).detach();
  assert.equal(d.gradFn, null);
  assert.throws(() => sum(d).backward(), (e: Error) => e instanceof EngineError && /does not require grad/.test(e.message));
});

test('a frozen weight gets no gradient while its input and the bias do', () => {
  const x = fromArray([[1, 2], [3, 4]]).setRequiresGrad();
  const w = fromArray([[1, 0], [0, 1], [1, 1]]);
  const b = fromArray([0, 0, 0]).setRequiresGrad();
  scope(() => sum(linear(x, w, b)).backward());
  assert.equal(w.grad, null);
  assert.deepEqual([...x.grad!.toArray()], [2, 2, 2, 2]);
  assert.deepEqual([...b.grad!.toArray()], [2, 2, 2]);
});

test('the graph is freed after backward unless retained', () => {
  const x = fromArray([1, 2]).setRequiresGrad();
  const y = sum(mul(x, x));
  y.backward(undefined, { retainGraph: true });
  y.backward();
  assert.deepEqual([...x.grad!.toArray()], [4, 8]);
  assert.throws(() => y.backward(), /already freed/);
});

test('backward refuses a seed gradient that is not float32, naming it', () => {
  const x = fromArray([1, 2], [2]).setRequiresGrad();
  const y = mul(x, x);
  const intGrad = fromArray([1, 1], [2], 'int32');
  assert.throws(() => y.backward(intGrad), (e: unknown) => e instanceof DTypeError && /^backward: argument 'grad' must be float32, got int32$/.test((e as Error).message));
});
