import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyAllocatorCache, full, setAllocatorCacheLimit, zeros } from '../../src/engine/index.js';

test('a released small buffer is reused for the same byte length, zero-filled when zeros are asked for', () => {
  emptyAllocatorCache();
  const a = full([100], 7);
  const buffer = a.buffer;
  a.dispose();
  assert.equal(buffer.byteLength, 400, 'a pooled buffer stays attached');
  const b = zeros([100]);
  assert.equal(b.buffer, buffer);
  assert.ok(b.toArray().every((v) => v === 0));
  b.dispose();
  emptyAllocatorCache();
});

test('other lengths and large buffers do not come from the pool', () => {
  emptyAllocatorCache();
  const a = full([100], 1);
  const small = a.buffer;
  a.dispose();
  const other = zeros([101]);
  assert.notEqual(other.buffer, small);
  other.dispose();
  const big = zeros([20_000]);
  const bigBuffer = big.buffer;
  big.dispose();
  assert.equal(bigBuffer.byteLength, 0, 'a buffer above the pool size goes back to the native allocator (detached)');
  emptyAllocatorCache();
});

test('emptyAllocatorCache frees pooled buffers and a cache limit of 0 turns pooling off', () => {
  const a = zeros([10]);
  const pooled = a.buffer;
  a.dispose();
  emptyAllocatorCache();
  assert.equal(pooled.byteLength, 0);
  setAllocatorCacheLimit(0);
  try {
    const b = zeros([10]);
    const buffer = b.buffer;
    b.dispose();
    assert.equal(buffer.byteLength, 0);
  } finally {
    setAllocatorCacheLimit(Number.MAX_SAFE_INTEGER);
  }
});
