// Kernels whose threads add up partial sums must give the same bits on every call with the same
// thread count (a seeded training run or sampled generation repeats exactly): each partial covers
// the same elements every time and the partials are added in a fixed order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linear, randn, scope, toDtype, type Tensor } from '../../src/engine/index.js';
import { loraLinear } from '../../src/peft/tuners/lora/fused-linear.js';
import { clipGradNorm } from '../../src/train/clip-grad.js';

const CALLS = 6;

function assertSameEveryCall(label: string, compute: () => Float32Array[]): void {
  const first = compute();
  for (let call = 1; call < CALLS; call++) {
    compute().forEach((values, i) => assert.ok(Buffer.from(values.buffer).equals(Buffer.from(first[i]!.buffer)), `${label}: output ${i} differs on call ${call + 1}`));
  }
}

test('fused LoRA backward: gA, gB and gx are the same bits on every call', () => {
  scope(() => {
    const [m, k, n, r] = [2048, 576, 1536, 8];
    const x0 = randn([m, k]);
    const w = randn([n, k], { std: 0.05 });
    const A0 = randn([r, k], { std: 0.05 });
    const B0 = randn([n, r], { std: 0.05 });
    const g = randn([m, n]);
    assertSameEveryCall('loraLinear', () =>
      scope(() => {
        const [x, A, B] = [x0, A0, B0].map((t) => t.detach().setRequiresGrad()) as [Tensor, Tensor, Tensor];
        loraLinear(x, w, null, A, B, 2, false).backward(g);
        return [A.grad!, B.grad!, x.grad!].map((t) => Float32Array.from(t.data() as Float32Array));
      }),
    );
  });
});

test('16-bit weight product split over weight rows (few rows, wide output) is the same bits on every call', () => {
  scope(() => {
    const x = randn([8, 768]);
    const w = toDtype(randn([768, 3072], { std: 0.05 }), 'bfloat16');
    assertSameEveryCall('halfMatmul', () => scope(() => [Float32Array.from(linear(x, w, null, { weightInOut: true }).data() as Float32Array)]));
  });
});

test('the global gradient norm is the same number on every call', () => {
  scope(() => {
    const params = Array.from({ length: 40 }, (_, i) => {
      const p = randn([257 + i * 31, 64]).setRequiresGrad();
      p.grad = randn(p.shape);
      return p;
    });
    const norms = Array.from({ length: CALLS }, () => clipGradNorm(params, Number.POSITIVE_INFINITY));
    assert.ok(norms.every((v) => Object.is(v, norms[0])), `norms differ: ${norms.join(', ')}`);
  });
});
