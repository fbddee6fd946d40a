import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, mul, randn, scope, ShapeError, silu, siluMul } from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';

test('siluMul equals mul(silu(gate), up), forward and both gradients', () => {
  scope(() => {
    const gen = new Generator(5);
    const values = [randn([3, 70, 33], { generator: gen, std: 4 }), randn([3, 70, 33], { generator: gen })];
    const g = randn([3, 70, 33], { generator: gen });
    const run = (fn: (a: ReturnType<typeof randn>, b: ReturnType<typeof randn>) => ReturnType<typeof randn>) => {
      const [gate, up] = values.map((t) => t.detach().setRequiresGrad());
      const y = fn(gate!, up!);
      y.backward(g);
      return [y.toArray(), gate!.grad!.toArray(), up!.grad!.toArray()];
    };
    const fused = run((a, b) => siluMul(a, b));
    const composed = run((a, b) => mul(silu(a), b));
    ['output', 'grad gate', 'grad up'].forEach((what, i) => assertClose(fused[i]!, composed[i]!, { atol: 1e-6, rtol: 1e-5 }, what));
  });
});

test('siluMul checks that gate and up have one shape', () => {
  scope(() => assert.throws(() => siluMul(randn([2, 3]), randn([3, 2])), ShapeError));
});
