import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EngineError, fromArray, Generator, noGrad, packedQkvAttention, permute, randn, reshape, scaledDotProductAttention, scope, ShapeError, slice, type Tensor,
} from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';

const TOL = { atol: 1e-5, rtol: 1e-4 };
const toHeadMajor = (t: Tensor) => permute(t, [0, 2, 1, 3]);

/** Output and input gradients of fn on fresh leaves copied from `values`, for the upstream gradient g. */
function run(values: Tensor[], fn: (...xs: Tensor[]) => Tensor, g: Tensor): { out: Float32Array; grads: Float32Array[] } {
  const leaves = values.map((t) => t.detach().setRequiresGrad());
  const y = fn(...leaves);
  y.backward(g);
  const result = { out: y.toArray() as Float32Array, grads: leaves.map((t) => t.grad!.toArray() as Float32Array) };
  for (const t of leaves) t.zeroGrad();
  return result;
}

function assertSame(a: ReturnType<typeof run>, b: ReturnType<typeof run>, label: string): void {
  assertClose(a.out, b.out, TOL, `${label}: output`);
  a.grads.forEach((g, i) => assertClose(g, b.grads[i]!, TOL, `${label}: gradient ${i}`));
}

test("layout 'bthd' equals permuting to [B, H, T, D], attending and permuting back (GQA, causal, mask)", () => {
  scope(() => {
    const gen = new Generator(3);
    const [B, T, Hq, Hkv, D] = [2, 37, 4, 2, 8];
    const q = randn([B, T, Hq, D], { generator: gen });
    const k = randn([B, T, Hkv, D], { generator: gen });
    const v = randn([B, T, Hkv, D], { generator: gen });
    const mask = fromArray(Float32Array.from({ length: B * T }, (_, i) => (i % T > 30 && i >= T ? -Infinity : 0)), [B, 1, 1, T]);
    const g = randn([B, T, Hq, D], { generator: gen });
    for (const causal of [false, true]) {
      const options = { causal, attnMask: mask };
      const fused = run([q, k, v], (a, b, c) => scaledDotProductAttention(a!, b!, c!, { ...options, layout: 'bthd' }), g);
      const composed = run([q, k, v], (a, b, c) => toHeadMajor(scaledDotProductAttention(toHeadMajor(a!), toHeadMajor(b!), toHeadMajor(c!), options)), g);
      assertSame(fused, composed, `causal ${causal}`);
    }
  });
});

test('packedQkvAttention equals splitting the projection into heads and attending', () => {
  scope(() => {
    const gen = new Generator(4);
    for (const [Hq, Hkv] of [[3, 3], [4, 2]] as const) {
      const [B, T, D] = [2, 70, 16];
      const qkv = randn([B, T, (Hq + 2 * Hkv) * D], { generator: gen });
      const g = randn([B, T, Hq * D], { generator: gen });
      const heads = (x: Tensor, from: number, n: number) => toHeadMajor(reshape(slice(x, 2, from * D, (from + n) * D), [B, T, n, D]));
      const fused = run([qkv], (x) => packedQkvAttention(x!, { heads: Hq, kvHeads: Hkv, causal: true }), g);
      const composed = run([qkv], (x) => {
        const out = scaledDotProductAttention(heads(x!, 0, Hq), heads(x!, Hq, Hkv), heads(x!, Hq + Hkv, Hkv), { causal: true });
        return reshape(toHeadMajor(out), [B, T, Hq * D]);
      }, g);
      assertSame(fused, composed, `${Hq} query heads, ${Hkv} kv heads`);
    }
  });
});

test('packedQkvAttention checks its arguments', () => {
  scope(() => {
    const qkv = randn([1, 4, 24]);
    assert.throws(() => packedQkvAttention(qkv, { heads: 5 }), ShapeError);
    assert.throws(() => packedQkvAttention(randn([4, 24]), { heads: 1 }), ShapeError);
    assert.throws(() => packedQkvAttention(qkv, { heads: 0 }), EngineError);
    assert.throws(() => packedQkvAttention(qkv, { heads: 2, kvHeads: 2, causal: 1 as never }), /options.causal/);
    assert.throws(() => packedQkvAttention(qkv, undefined as never), /packedQkvAttention: argument 'options' must be an object/);
    assert.throws(() => packedQkvAttention(qkv, { heads: 2, kvHeads: 1.5 }), /packedQkvAttention: argument 'options.kvHeads'/);
    // Neither applies to a packed input, so neither may be silently ignored.
    assert.throws(() => noGrad(() => packedQkvAttention(qkv, { heads: 2, keyLength: 1 } as never)), /packedQkvAttention: argument 'options.keyLength' is not an option/);
    assert.throws(() => packedQkvAttention(qkv, { heads: 2, layout: 'bthd' } as never), /argument 'options.layout' is not an option/);
    assert.deepEqual(packedQkvAttention(qkv, { heads: 2 }).shape, [1, 4, 8]);
    assert.deepEqual(packedQkvAttention(randn([1, 4, 32]), { heads: 2, kvHeads: 1 }).shape, [1, 4, 16]);
  });
});
