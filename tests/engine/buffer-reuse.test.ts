import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeros } from '../../src/index.js';

const MB = 1024 * 1024;

test('disposed buffers are reused by later allocations without the event loop turning', () => {
  const rounds = 2000;
  const before = process.memoryUsage().rss;
  for (let i = 0; i < rounds; i++) zeros([16384]).dispose();
  const growth = process.memoryUsage().rss - before;
  // Each round zero-fills 64 KiB; without reuse RSS would grow by about 125 MiB.
  assert.ok(growth < 16 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB over ${rounds} allocate/dispose rounds`);
});
