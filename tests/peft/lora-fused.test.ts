// The fused LoRA layer op against the composition it replaces, and when LoraLinear takes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linear, randn, scope, type Tensor } from '../../src/engine/index.js';
import { Conv1D, Linear } from '../../src/nn/linear.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { loraLinear } from '../../src/peft/tuners/lora/fused-linear.js';
import { LoraLinear } from '../../src/peft/tuners/lora/layer.js';
import { addLowRank } from '../../src/peft/tuners/lora/low-rank.js';
import { assertClose } from '../helpers/assert-close.js';
import { captureWarnings } from '../helpers/peft.js';

/** Sums over hundreds of rows round differently in float32: tolerance relative to the largest expected value. */
function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  const scale = Math.max(...Array.from(expected, Math.abs));
  assertClose(actual, expected, { atol: 2e-6 * scale, rtol: 1e-5 }, label);
}

/** Output and the gradients of x, A and B for the upstream gradient g. */
function run(fn: (x: Tensor, A: Tensor, B: Tensor) => Tensor, x0: Tensor, A0: Tensor, B0: Tensor, g: Tensor) {
  const [x, A, B] = [x0, A0, B0].map((t) => t.detach().setRequiresGrad()) as [Tensor, Tensor, Tensor];
  const y = fn(x, A, B);
  y.backward(g);
  return [y, x.grad!, A.grad!, B.grad!].map((t) => t.toArray());
}

for (const [rows, inF, outF, r] of [[70, 24, 20, 3], [300, 96, 80, 8]] as const) {
  for (const inOut of [false, true]) {
    for (const withBias of [false, true]) {
      test(`loraLinear equals linear + addLowRank (${rows} rows, ${inF}→${outF}, r=${r}, ${inOut ? '[in, out]' : '[out, in]'} weight${withBias ? ', bias' : ''})`, () => {
        scope(() => {
          const x = randn([2, rows / 2, inF]);
          const W = randn(inOut ? [inF, outF] : [outF, inF]);
          const bias = withBias ? randn([outF]) : null;
          const A = randn([r, inF]);
          const B = randn([outF, r]);
          const g = randn([2, rows / 2, outF]);
          const fused = run((a, b, c) => loraLinear(a, W, bias, b, c, 0.75, inOut), x, A, B, g);
          const composed = run((a, b, c) => addLowRank(linear(a, W, bias, { weightInOut: inOut }), linear(a, b), c, 0.75), x, A, B, g);
          ['output', 'grad x', 'grad A', 'grad B'].forEach((what, i) => assertNear(fused[i]!, composed[i]!, what));
        });
      });
    }
  }
}

// Odd row counts and widths leave tails in every blocking of the row kernels (4-row × 4-rank tiles,
// 16-row rank updates, 16-lane columns, 32-row thread tasks); ranks 1, 12 and 64 leave partial or
// many rank blocks. The 333-row case is large enough to be split across threads.
for (const [rows, inF, outF, r] of [[37, 19, 23, 1], [101, 45, 33, 12], [333, 161, 97, 8], [75, 40, 50, 64], [1, 17, 5, 3]] as const) {
  test(`loraLinear equals linear + addLowRank for tails (${rows} rows, ${inF}→${outF}, r=${r})`, () => {
    scope(() => {
      const x = randn([rows, inF]);
      const W = randn([outF, inF]);
      const bias = randn([outF]);
      const A = randn([r, inF]);
      const B = randn([outF, r]);
      const g = randn([rows, outF]);
      const fused = run((a, b, c) => loraLinear(a, W, bias, b, c, 1.5, false), x, A, B, g);
      const composed = run((a, b, c) => addLowRank(linear(a, W, bias), linear(a, b), c, 1.5), x, A, B, g);
      ['output', 'grad x', 'grad A', 'grad B'].forEach((what, i) => assertNear(fused[i]!, composed[i]!, what));
    });
  });
}

test('loraLinear forms gA and gB without an input gradient', () => {
  scope(() => {
    const [x, W, g, A0, B0] = [randn([45, 30]), randn([21, 30]), randn([45, 21]), randn([5, 30]), randn([21, 5])];
    const grads = (fn: (A: Tensor, B: Tensor) => Tensor) => {
      const [A, B] = [A0, B0].map((t) => t.detach().setRequiresGrad()) as [Tensor, Tensor];
      fn(A, B).backward(g);
      return [A.grad!.toArray(), B.grad!.toArray()];
    };
    const fused = grads((A, B) => loraLinear(x, W, null, A, B, 0.5, false));
    const composed = grads((A, B) => addLowRank(linear(x, W, null), linear(x, A), B, 0.5));
    ['grad A', 'grad B'].forEach((what, i) => assertNear(fused[i]!, composed[i]!, what));
  });
});

test('LoraLinear takes the fused op for a plain adapter and the general path with dropout in training', () => {
  scope(() => {
    const layer = (dropout: number, base: Linear | Conv1D) =>
      captureWarnings(() => new LoraLinear(base, 'default', new LoraConfig({ targetModules: ['x'], loraDropout: dropout, fanInFanOut: base instanceof Conv1D }), { r: 2, loraAlpha: 4 })).result;
    for (const base of [new Linear(6, 4), new Conv1D(4, 6)]) {
      base.requiresGrad(false);
      const x = randn([3, 6]);
      assert.equal(layer(0, base).forward(x).gradFn?.op, 'loraLinear');
      const dropped = layer(0.5, base);
      assert.notEqual(dropped.forward(x).gradFn?.op, 'loraLinear');
      dropped.eval();
      assert.equal(dropped.forward(x).gradFn?.op, 'loraLinear');
    }
    const trainableBase = layer(0, new Linear(6, 4));
    trainableBase.getBaseLayer().requiresGrad(true);
    assert.notEqual(trainableBase.forward(randn([3, 6])).gradFn?.op, 'loraLinear');
  });
});
