import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bench as gemmBench } from '../../bench/gemm.js';
import type { Bench, CaseResult } from '../../bench/harness/bench.js';
import { Flags } from '../../bench/harness/flags.js';
import { measureCase } from '../../bench/harness/measure.js';
import { summaryLine } from '../../bench/harness/report.js';
import { geometricMean, median } from '../../bench/harness/stats.js';
import { TorchWorker } from '../../bench/harness/torch-worker.js';

const known = { rounds: 'n', shapes: 'list', torch: 'switch' };

test('Flags parse --key value, --key=value, --switch and --no-switch, and reject unknown flags', () => {
  const f = new Flags(['--rounds', '3', '--shapes=1x2x3', '--no-torch'], known);
  assert.equal(f.number('rounds', 7), 3);
  assert.equal(f.string('shapes'), '1x2x3');
  assert.equal(f.bool('torch', true), false);
  assert.equal(new Flags(['--torch'], known).bool('torch'), true);
  assert.equal(new Flags([], known).number('rounds', 7), 7);
  assert.throws(() => new Flags(['--roundz', '3'], known), /unknown flag '--roundz'/);
  assert.throws(() => new Flags(['--rounds', 'x'], known).number('rounds', 7), /--rounds must be a positive number/);
});

test('median and geometric mean', () => {
  assert.equal(median([5, 1, 3, 2]), 2.5);
  assert.ok(Math.abs(geometricMean([1, 4, 16]) - 4) < 1e-12);
});

test('SUMMARY is the geometric mean of our throughput over PyTorch\'s, then the bench\'s own pairs', () => {
  const bench = { summary: () => ({ extra_key: 1.5 }) } as unknown as Bench;
  const results: CaseResult[] = [
    { case: { label: 'a', params: {} }, ours: { seconds: 1, spread: 0 }, torch: { seconds: 2, spread: 0 } },
    { case: { label: 'b', params: {} }, ours: { seconds: 1, spread: 0 }, torch: { seconds: 8, spread: 0 } },
  ];
  const context = { rssMb: { ours: { baseline: 50, peak: 100 }, torch: null } };
  assert.equal(summaryLine('gemm', bench, results, context), 'SUMMARY gemm_ratio_vs_torch=4 extra_key=1.5');
});

test('measureCase times our side in rounds and reports the median per call', async () => {
  let calls = 0;
  const result = await measureCase('fake', { label: 'x', params: {} }, { run: () => void calls++, dispose: () => undefined }, null, { rounds: 3, roundMs: 2, warmupMs: 2 });
  assert.ok(calls > 0);
  assert.ok(result.ours.seconds > 0 && result.ours.seconds < 1e-3);
  assert.equal(result.torch, null);
});

test('a missing Python interpreter is a clear error naming the setup step', async () => {
  const saved = process.env.PEFTJS_PYTHON;
  const missing = join(tmpdir(), 'peftjs-no-such-python');
  process.env.PEFTJS_PYTHON = missing;
  try {
    await assert.rejects(TorchWorker.start(2), (e: Error) => e.message.includes(`no Python interpreter at ${missing}; run \`npm run fixtures\` (or tools/setup-python.sh)`));
  } finally {
    if (saved === undefined) delete process.env.PEFTJS_PYTHON;
    else process.env.PEFTJS_PYTHON = saved;
  }
});

test('gemm --operands cycles each call through that many operand pairs and must be whole', () => {
  const flags = (args: string[]) => new Flags(args, gemmBench.flags!);
  const [c] = gemmBench.cases(flags(['--shapes', '2x3x4', '--operands', '3']));
  assert.deepEqual(c!.params, { m: 2, k: 3, n: 4, operands: 3 });
  assert.equal(c!.label, '2x3x4 (3 operand pairs)');
  assert.equal(gemmBench.cases(flags(['--shapes', '2x3x4']))[0]!.label, '2x3x4');
  assert.throws(() => gemmBench.cases(flags(['--operands', '2.5'])), /--operands must be a whole number/);
  const subject = gemmBench.ours(c!);
  for (let i = 0; i < 4; i++) subject.run();
  subject.dispose();
});
