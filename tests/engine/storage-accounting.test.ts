import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromArray, matmul, permute, randn, reshape, scope, slice, Storage, sumToShape, zeros } from '../../src/index.js';

function live(): [number, number] {
  return [Storage.liveCount, Storage.liveBytes];
}

test('Storage counts live allocations and their bytes; views share one storage', () => {
  const [count, bytes] = live();
  const t = zeros([3, 5]);
  assert.deepEqual(live(), [count + 1, bytes + 60]);
  const v = reshape(t, [15]);
  assert.deepEqual(live(), [count + 1, bytes + 60]);
  t.dispose();
  assert.deepEqual(live(), [count + 1, bytes + 60], 'the view still holds the storage');
  v.dispose();
  assert.deepEqual(live(), [count, bytes]);
});

test('scope() frees every tensor created inside it, including autograd temporaries', () => {
  const before = live();
  scope(() => {
    const x = randn([4, 6]).setRequiresGrad();
    const w = randn([6, 3]).setRequiresGrad();
    const y = permute(slice(matmul(x, w), 0, 1, 3), [1, 0]);
    sumToShape(y, []).backward();
    assert.ok(Storage.liveCount > before[0]);
    x.zeroGrad();
    w.zeroGrad();
  });
  assert.deepEqual(live(), before);
});

test('scope() keeps only the returned tensor; a throwing scope frees everything', () => {
  const [count, bytes] = live();
  const out = scope(() => {
    const a = fromArray([1, 2, 3, 4], [2, 2]);
    return matmul(a, a);
  });
  assert.deepEqual(live(), [count + 1, bytes + 16]);
  out.dispose();
  assert.throws(() =>
    scope(() => {
      zeros([100]);
      throw new Error('boom');
    }),
  );
  assert.deepEqual(live(), [count, bytes]);
});
