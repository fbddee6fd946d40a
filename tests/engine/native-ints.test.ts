// The shape and stride lists handed to native kernels must not make V8 collect garbage: an Int32Array
// in V8's heap is moved out to a new backing store when native code reads it, and while tens of MB
// of tensors are young, each such move ran a scavenge (36 in this loop before the lists moved to
// off-heap slabs).
import assert from 'node:assert/strict';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { test } from 'node:test';
import { add, permute, randn, Tensor } from '../../src/engine/index.js';
import { nativeInts } from '../../src/engine/ops/native-ints.js';

test('broadcast and strided-copy arguments do not trigger scavenges while large tensors are young', async () => {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  observer.observe({ entryTypes: ['gc'] });
  const a = randn([4, 8]);
  const b = randn([8]);
  try {
    for (let round = 0; round < 20; round++) {
      // 64 MB of activations made fresh each round, as in a training step.
      const held = Array.from({ length: 16 }, () => Tensor.empty([1 << 20]));
      for (let i = 0; i < 25; i++) {
        add(a, b).dispose();
        permute(a, [1, 0]).dispose();
      }
      for (const t of held) t.dispose();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    observer.disconnect();
    a.dispose();
    b.dispose();
  }
  assert.ok(minor < 10, `${minor} scavenges during 1000 small ops`);
});

test('each list is a view of its own, so one kept for a backward is never overwritten', () => {
  const kept = nativeInts([1, 2, 3]);
  const views = Array.from({ length: 20_000 }, (_, i) => nativeInts([i, i + 1]));
  assert.deepEqual([...kept], [1, 2, 3]);
  views.forEach((v, i) => assert.deepEqual([...v], [i, i + 1]));
  const long = Array.from({ length: 20_000 }, (_, i) => i);
  assert.deepEqual([...nativeInts(long)], long);
});
