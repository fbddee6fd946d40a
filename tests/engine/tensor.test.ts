import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, DisposedTensorError, EngineError, mul, randn, scope, Storage, Tensor, zeros } from '../../src/engine/index.js';

test('a disposed tensor is refused before it reaches native code', () => {
  const x = randn([3]).setRequiresGrad();
  const g = randn([3]);
  g.dispose();
  assert.throws(() => g.view([3]), DisposedTensorError);
  assert.throws(() => g.alias(), DisposedTensorError);
  const y = scope(() => mul(x, 2));
  assert.throws(() => y.backward(g), (e: Error) => e instanceof DisposedTensorError && /backward: argument 'grad'/.test(e.message));
  y.dispose();
  x.dispose();
});

test('a tensor shape cannot be changed under the kernels', () => {
  const x = zeros([4]);
  assert.ok(Object.isFrozen(x.shape));
  assert.throws(() => {
    (x.shape as number[])[0] = 1e7;
  }, TypeError);
  assert.throws(() => (x.shape as number[]).push(1), TypeError);
  assert.deepEqual([...add(x, x).shape], [4]);
  const dims = [2, 2];
  const y = x.view(dims);
  dims[0] = 4;
  assert.deepEqual([...y.shape], [2, 2], 'the caller keeps its own array');
  assert.equal(y.alias().shape, y.shape, 'a frozen shape is shared, not copied');
  for (const t of [x, y]) t.dispose();
});

test('view shapes and storage sizes are checked', () => {
  const x = zeros([4]);
  assert.throws(() => x.view([-2, -2]), /view: argument 'shape' must hold non-negative integers/);
  assert.throws(() => Storage.allocate(NaN), /Storage.allocate: argument 'bytes' must be a non-negative integer, got NaN/);
  assert.throws(() => Storage.allocate(-4), /Storage.allocate/);
  x.dispose();
});

test('a tensor too large to allocate is refused naming the function called, its shape and size', () => {
  // [1, 2, 3e7, 64]: 15 GB, more than Node wraps in one buffer (refused before the allocator, which aborted).
  const tooLarge = (op: string, shape: number[]) => (e: unknown) =>
    e instanceof EngineError && new RegExp(`^${op}: argument 'shape' \\[${shape.join(', ')}\\] of float32 needs [\\d,]+ bytes, more than can be allocated$`).test((e as Error).message);
  for (const shape of [[1e9, 1e9], [1e7, 1e6], [1, 2, 3e7, 64]]) {
    assert.throws(() => zeros(shape), tooLarge('zeros', shape));
    assert.throws(() => Tensor.empty(shape), tooLarge('empty', shape));
  }
});
