// oneDNN's sgemm kernels run with the stack pointer inside a heap buffer, so a signal landing on a
// thread inside one writes over the heap. The engine holds signals back while oneDNN runs; this
// runs every product path under node's sampling profiler (a SIGPROF to the main thread every
// 20 µs), which without that aborted in malloc within the first products.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTempDir } from '../helpers/temp-dir.js';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'products-under-signals.js');

test('products repeat bit for bit while a sampling profiler interrupts them', () => {
  withTempDir((dir) => {
    const run = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '20', '--cpu-prof-dir', dir, script, '1.5'], { encoding: 'utf8' });
    assert.equal(run.signal, null, `the child was killed by ${run.signal}: ${run.stderr}`);
    assert.equal(run.status, 0, run.stderr);
    const repeats = Number(/^ok (\d+)$/m.exec(run.stdout)?.[1]);
    assert.ok(repeats >= 3, `expected several repeats, got: ${run.stdout}`);
  });
});
