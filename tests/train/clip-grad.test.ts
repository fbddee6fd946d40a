import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { clipGradNorm, DTypeError, EngineError, fromArray, randn, zeros } from '../../src/index.js';
import { assertClose, assertTensorClose } from '../helpers/assert-close.js';
import { toTensor, type GoldenTensor } from '../helpers/golden.js';
import { fixturePath } from '../helpers/paths.js';

interface ClipCase {
  name: string;
  max_norm: number;
  shapes: number[][];
  grads: (GoldenTensor | null)[];
  total_norm: number;
  clipped: (GoldenTensor | null)[];
}
const { cases } = JSON.parse(readFileSync(fixturePath('train', 'clip_grad.json'), 'utf8')) as { cases: ClipCase[] };
const tol = { atol: 1e-4, rtol: 1e-4 };

for (const c of cases) {
  test(`clipGradNorm matches torch.nn.utils.clip_grad_norm_: ${c.name}`, () => {
    const params = c.shapes.map((s) => zeros(s).setRequiresGrad());
    params.forEach((p, i) => (p.grad = c.grads[i] === null ? null : toTensor(c.grads[i]!)));
    const norm = clipGradNorm(params, c.max_norm);
    assertClose([norm], [c.total_norm], tol, `${c.name}: total norm`);
    params.forEach((p, i) => {
      if (c.clipped[i] === null) assert.equal(p.grad, null);
      else assertTensorClose(p.grad!, c.clipped[i]!, tol, `${c.name}: grad ${i}`);
      p.zeroGrad();
      p.dispose();
    });
  });
}

test('clipGradNorm over hundreds of gradients equals the norm of their concatenation', () => {
  const params = Array.from({ length: 250 }, (_, i) => zeros([1 + ((i * 104729) % 2000)]).setRequiresGrad());
  for (const p of params) p.grad = randn(p.shape);
  const values = params.map((p) => Float64Array.from(p.grad!.toArray()));
  const expected = Math.sqrt(values.reduce((s, v) => s + v.reduce((a, x) => a + x * x, 0), 0));
  const maxNorm = expected / 4;
  const norm = clipGradNorm(params, maxNorm);
  assertClose([norm], [expected], tol, 'total norm');
  const scale = maxNorm / (expected + 1e-6);
  params.forEach((p, i) => assertClose(p.grad!.toArray(), values[i]!.map((x) => x * scale), tol, `grad ${i}`));
});

test('clipGradNorm without gradients returns 0; bad arguments raise typed errors', () => {
  assert.equal(clipGradNorm([zeros([3])], 1), 0);
  assert.throws(() => clipGradNorm([zeros([3])], -1), (e: unknown) => e instanceof EngineError && /clipGradNorm: argument 'maxNorm'/.test((e as Error).message));
  assert.throws(() => clipGradNorm([zeros([3])], Number.NaN), EngineError);
  assert.throws(() => clipGradNorm(null as unknown as [], 1), /clipGradNorm: argument 'params' must be an iterable of tensors/);
  assert.throws(() => clipGradNorm([fromArray([1, 2]), zeros([1], 'int32')], 1), (e: unknown) => e instanceof DTypeError && /argument 'params\[1\]'/.test((e as Error).message));
});
