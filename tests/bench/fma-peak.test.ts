import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmaPeakGflops } from '../../bench/harness/fma-peak.js';

// Two FMA ports × 16 fp32 lanes × 2 FLOP at 6 GHz: more than any core can issue, so a figure above
// it means the probe's chains were optimised away rather than run.
const MAX_GFLOPS_PER_THREAD = 2 * 16 * 2 * 6;

test('the FMA probe builds, runs and reports a rate a core can reach', () => {
  const gflops = fmaPeakGflops(1);
  assert.ok(gflops > 1 && gflops <= MAX_GFLOPS_PER_THREAD, `one thread reported ${gflops} GFLOP/s`);
});
