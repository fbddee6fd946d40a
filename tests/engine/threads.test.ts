import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, getNumThreads, setNumThreads } from '../../src/engine/index.js';

test('setNumThreads takes an integer from 1 to 1024 and refuses anything else before it reaches OpenMP', () => {
  const before = getNumThreads();
  for (const n of [0, -1, 1.5, NaN, 1025, 50_000, 100_000, 2 ** 31 + 5, '4']) {
    assert.throws(
      () => setNumThreads(n as number),
      (e: Error) => e instanceof EngineError && e.message.startsWith("setNumThreads: argument 'n' must be an integer in [1, 1024], got "),
      String(n),
    );
  }
  assert.equal(getNumThreads(), before);
  setNumThreads(1024);
  assert.equal(getNumThreads(), 1024);
  setNumThreads(before);
});
