// Rows hidden entirely by a finite finfo(float32).min mask (transformers' masked value, e.g. the
// leading rows of a left-padded batch): every score rounds to the mask value, so the weights are
// uniform over the keys, and their gradients must be too. Checked against the f64 reference with
// those rows' queries at zero, where f64 and f32 agree that every score is the same.
import { test } from 'node:test';
import { fromArray, Generator, randn, scaledDotProductAttention } from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { referenceAttention } from '../helpers/attention-reference.js';

const MIN = -3.4028234663852886e38;

test('rows masked by finfo.min get uniform weights forward and backward', () => {
  const [B, H, T, S, D] = [2, 2, 5, 300, 8];
  const gen = new Generator(3);
  const q = randn([B, H, T, D], { generator: gen });
  const k = randn([B, H, S, D], { generator: gen });
  const v = randn([B, H, S, D], { generator: gen });
  const dout = randn([B, H, T, D], { generator: gen });
  const mask = new Float32Array(B * T * S);
  const qd = q.data();
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < 2; i++) {
      mask.fill(MIN, (b * T + i) * S, (b * T + i + 1) * S);
      for (let h = 0; h < H; h++) qd.fill(0, ((b * H + h) * T + i) * D, ((b * H + h) * T + i + 1) * D);
    }
    mask.fill(MIN, (b * T + 3) * S, (b * T + 3) * S + 100);
  }
  for (const t of [q, k, v]) t.setRequiresGrad();
  const attnMask = fromArray(mask, [B, 1, T, S]);
  const out = scaledDotProductAttention(q, k, v, { attnMask });
  out.backward(dout);
  const ref = referenceAttention({
    q: q.data(), k: k.data(), v: v.data(), dims: [B, H, H, T, S, D, D], scale: 1 / Math.sqrt(D), causal: false,
    terms: [{ data: mask, shape: [B, 1, T, S] }], dout: dout.data(),
  });
  const tol = { atol: 1e-5, rtol: 1e-4 };
  assertClose(out.toArray(), ref.out, tol, 'out');
  assertClose(q.grad!.toArray(), ref.dq, tol, 'dq');
  assertClose(k.grad!.toArray(), ref.dk, tol, 'dk');
  assertClose(v.grad!.toArray(), ref.dv, tol, 'dv');
});
