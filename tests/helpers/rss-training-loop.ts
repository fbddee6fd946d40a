// A training loop (1000 measured steps) run in its own process (with --expose-gc) by the memory test: a
// two-layer MLP (first layer checkpointed) trained with AdamW and gradient clipping, one scope per
// step. Prints JSON with the resident set size and live storage count sampled along the way.
// Each step yields to the event loop, as a trainer does: Node runs the finalisers of released
// native buffers from there (see docs/engine.md).
import { setImmediate as nextTick } from 'node:timers/promises';
import { AdamW, checkpoint, clipGradNorm, matmul, randn, reshape, scope, Storage, type Tensor } from '../../src/index.js';

// 500 warm-up steps (V8's heap and malloc's arenas settle over the first few hundred), then the
// 1000 measured ones.
const STEPS = 1500;
const SAMPLE_AT = new Set([500, 750, 1000, 1250, 1500]);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('rss-training-loop: run node with --expose-gc');

const x = randn([256, 32]);
const w1 = randn([32, 64], { std: 0.2 }).setRequiresGrad();
const w2 = randn([64, 8], { std: 0.2 }).setRequiresGrad();
const opt = new AdamW([w1, w2], { lr: 1e-2 });

function loss(): Tensor {
  const h = checkpoint((input) => matmul(input, w1), x);
  const y = reshape(matmul(h, w2), [-1, 1]);
  return matmul(y, y, { transA: true, alpha: 1 / y.size });
}

const samples: { step: number; rss: number; liveCount: number; liveBytes: number }[] = [];
const losses: number[] = [];
for (let step = 1; step <= STEPS; step++) {
  scope(() => {
    const l = loss();
    if (step === 1 || step === STEPS) losses.push(l.item());
    l.backward();
    clipGradNorm([w1, w2], 1.0);
    opt.step();
    opt.zeroGrad();
    if (step % 100 === 0) opt.stateDict();
  });
  await nextTick();
  if (SAMPLE_AT.has(step)) {
    gc();
    samples.push({ step, rss: process.memoryUsage().rss, liveCount: Storage.liveCount, liveBytes: Storage.liveBytes });
  }
}
process.stdout.write(JSON.stringify({ samples, losses }));
