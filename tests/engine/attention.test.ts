import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type AttentionOptions, DTypeError, EngineError, fromArray, Generator, noGrad, randn, scaledDotProductAttention, ShapeError, type Tensor, zeros,
} from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { type AdditiveTerm, referenceAttention } from '../helpers/attention-reference.js';
import { goldenTests } from '../helpers/golden.js';

type A = Record<string, unknown>;
const TOL = { atol: 1e-4, rtol: 1e-4 };

goldenTests('attention', {
  sdpa: ([q, k, v, ...terms], o: A) =>
    scaledDotProductAttention(q!, k!, v!, {
      causal: o.causal as boolean,
      ...(o.scale === undefined ? {} : { scale: o.scale as number }),
      ...(o.mask ? { attnMask: terms.shift()! } : {}),
      ...(o.bias ? { bias: terms.shift()! } : {}),
    }),
});

interface Case {
  dims: [number, number, number, number, number, number, number];
  causal?: boolean;
  scale?: number;
  mask?: AdditiveTerm;
  bias?: AdditiveTerm;
  /** Which of q, k, v, mask, bias require grad (default: q, k, v and bias). */
  grads?: { q?: boolean; k?: boolean; v?: boolean; mask?: boolean; bias?: boolean };
  dropout?: { p: number; seed: number };
}

/** Attention weights (dropout applied) [B, Hq, T, S], read off the output for v = identity. */
function droppedWeights(q: Tensor, k: Tensor, options: AttentionOptions): Float32Array {
  const [B, Hkv, S] = k.shape as [number, number, number];
  const eye = zeros([B, Hkv, S, S]);
  const e = eye.data();
  for (let bh = 0; bh < B * Hkv; bh++) for (let j = 0; j < S; j++) e[(bh * S + j) * S + j] = 1;
  return noGrad(() => scaledDotProductAttention(q, k, eye, options)).toArray() as Float32Array;
}

/** Runs the fused op on random inputs and checks output and gradients against the f64 reference. */
function checkAgainstReference(c: Case, seed: number): { out: Tensor; grads: Record<string, Tensor | null> } {
  const [B, Hq, Hkv, T, S, D, Dv] = c.dims;
  const gen = new Generator(seed);
  const q = randn([B, Hq, T, D], { generator: gen });
  const k = randn([B, Hkv, S, D], { generator: gen });
  const v = randn([B, Hkv, S, Dv], { generator: gen });
  const dout = randn([B, Hq, T, Dv], { generator: gen });
  const want = { q: true, k: true, v: true, mask: false, bias: true, ...c.grads };
  const mask = c.mask && fromArray(c.mask.data, c.mask.shape);
  const bias = c.bias && fromArray(c.bias.data, c.bias.shape);
  const named: [string, Tensor | undefined][] = [['q', q], ['k', k], ['v', v], ['mask', mask], ['bias', bias]];
  for (const [name, t] of named) if (t && want[name as keyof typeof want]) t.setRequiresGrad();
  const scale = c.scale ?? 1 / Math.sqrt(D);
  const options = (): AttentionOptions => ({
    causal: c.causal ?? false,
    scale,
    ...(mask ? { attnMask: mask } : {}),
    ...(bias ? { bias } : {}),
    ...(c.dropout ? { dropoutP: c.dropout.p, generator: new Generator(c.dropout.seed) } : {}),
  });
  // The same generator state gives the same mask, so the kept weights can be recovered first.
  const weights = c.dropout && droppedWeights(q, k, options());
  const keepScale = c.dropout && 1 / (1 - c.dropout.p);
  const out = scaledDotProductAttention(q, k, v, options());
  const terms = [c.mask, c.bias].filter((t): t is AdditiveTerm => t !== undefined);
  const ref = referenceAttention({
    q: q.toArray(), k: k.toArray(), v: v.toArray(), dims: c.dims, scale, causal: c.causal ?? false, terms, dout: dout.toArray(),
    ...(weights ? { dropout: (b: number, h: number, i: number, j: number) => (weights[((b * Hq + h) * T + i) * S + j] !== 0 ? keepScale! : 0) } : {}),
  });
  assertClose(out.toArray(), ref.out, TOL, 'output');
  if (out.requiresGrad) out.backward(dout);
  const expected: Record<string, Float64Array | undefined> = {
    q: ref.dq, k: ref.dk, v: ref.dv,
    mask: c.mask ? ref.dterms[0] : undefined,
    bias: c.bias ? ref.dterms[c.mask ? 1 : 0] : undefined,
  };
  const grads: Record<string, Tensor | null> = {};
  for (const [name, t] of named) {
    if (!t) continue;
    grads[name] = t.grad;
    if (t.requiresGrad) assertClose(t.grad!.toArray(), expected[name]!, TOL, `grad of ${name}`);
    else assert.equal(t.grad, null, `${name} does not require grad`);
  }
  return { out, grads };
}

/** [B, 1, 1, S] mask: 0 for the first valid[b] keys of batch b, -inf after. */
function padMask(B: number, S: number, valid: number[]): AdditiveTerm {
  const data = new Array<number>(B * S).fill(0);
  valid.forEach((n, b) => data.fill(-Infinity, b * S + n, (b + 1) * S));
  return { data, shape: [B, 1, 1, S] };
}

function randomTerm(shape: number[], seed: number): AdditiveTerm {
  const t = randn(shape, { generator: new Generator(seed) });
  return { data: Array.from(t.toArray()), shape };
}

test('long sequence (T = S = 1100) matches the float64 reference', () => {
  checkAgainstReference({ dims: [1, 2, 1, 1100, 1100, 8, 8] }, 1);
});

test('long causal sequence with a -inf padding mask and a per-head bias', () => {
  checkAgainstReference({ dims: [1, 2, 2, 1100, 1100, 8, 4], causal: true, mask: padMask(1, 1100, [777]), bias: randomTerm([1, 2, 1, 1100], 7) }, 2);
});

test('causal decoding step: T < S aligns queries to the last T keys', () => {
  checkAgainstReference({ dims: [2, 4, 2, 3, 70, 16, 16], causal: true }, 3);
});

test('fully masked rows give zero output and zero gradients (not NaN)', () => {
  // Batch 1 has every key masked; with causal and T > S the first T − S queries see no key.
  const { out, grads } = checkAgainstReference(
    { dims: [2, 2, 1, 9, 6, 8, 8], causal: true, mask: padMask(2, 6, [4, 0]), grads: { q: true, k: true, v: true, mask: true } },
    4,
  );
  const o = out.toArray();
  const dq = grads.q!.toArray();
  const rowsZero = (data: ArrayLike<number>, width: number, b: number, h: number, i: number) =>
    Array.from({ length: width }, (_, c) => data[((b * 2 + h) * 9 + i) * width + c]).every((x) => x === 0);
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < 9; i++) assert.ok(rowsZero(o, 8, 1, h, i) && rowsZero(dq, 8, 1, h, i), `batch 1 head ${h} row ${i}`);
    for (let i = 0; i < 3; i++) assert.ok(rowsZero(o, 8, 0, h, i) && rowsZero(dq, 8, 0, h, i), `batch 0 head ${h} causal row ${i}`);
  }
  for (const g of [grads.k!, grads.v!, grads.mask!]) assert.ok(g.toArray().every((x) => Number.isFinite(x)));
});

test('bias broadcast over batch and heads gets its gradient summed', () => {
  checkAgainstReference({ dims: [3, 4, 2, 20, 33, 8, 8], bias: randomTerm([1, 1, 20, 33], 9), mask: randomTerm([3, 1, 20, 1], 10), grads: { mask: true } }, 5);
});

test('only the gradients that are needed are computed', () => {
  const onlyV = checkAgainstReference({ dims: [2, 2, 1, 17, 17, 8, 8], grads: { q: false, k: false, v: true, bias: false }, bias: randomTerm([2, 2, 17, 17], 11) }, 6);
  assert.equal(onlyV.grads.q, null);
  const onlyBias = checkAgainstReference({ dims: [2, 2, 1, 17, 17, 8, 8], grads: { q: false, k: false, v: false, bias: true }, bias: randomTerm([2, 2, 17, 17], 12) }, 7);
  assert.equal(onlyBias.grads.v, null);
});

test('dropout keeps each weight with probability 1 − p, scaled by 1/(1 − p)', () => {
  const [B, H, T, S, D, p] = [1, 2, 64, 16, 8, 0.3];
  const gen = new Generator(21);
  const q = randn([B, H, T, D], { generator: gen });
  const k = randn([B, H, S, D], { generator: gen });
  const dropper = new Generator(5);
  const z = droppedWeights(q, k, { dropoutP: p, generator: dropper });
  assert.equal(dropper.getState().counter, B * H * T * S, 'the generator advances by one draw per weight');
  const weights = droppedWeights(q, k, {});
  let dropped = 0;
  z.forEach((x, i) => {
    if (x === 0) dropped++;
    else assertClose([x], [weights[i]! / (1 - p)], TOL, `kept weight ${i}`);
  });
  const rate = dropped / z.length;
  assert.ok(Math.abs(rate - p) < 0.05, `dropped ${rate} of the weights, expected about ${p}`);
  assert.deepEqual(droppedWeights(q, k, { dropoutP: p, generator: new Generator(5) }), z, 'same seed, same mask');
  assert.notDeepEqual(droppedWeights(q, k, { dropoutP: p, generator: dropper }), z, 'the next call draws a new mask');
});

test('dropout forward and backward match the reference under the same mask', () => {
  checkAgainstReference({ dims: [2, 4, 2, 70, 300, 16, 16], causal: true, dropout: { p: 0.2, seed: 3 }, bias: randomTerm([1, 4, 70, 300], 13) }, 8);
});

test('no keys (S = 0) gives a zero output and zero gradients', () => {
  const q = zeros([1, 2, 3, 4]).setRequiresGrad();
  const k = zeros([1, 2, 0, 4]).setRequiresGrad();
  const v = zeros([1, 2, 0, 5]);
  const out = scaledDotProductAttention(q, k, v);
  assert.deepEqual([...out.shape], [1, 2, 3, 5]);
  assert.ok(out.toArray().every((x) => x === 0));
  out.backward(zeros([1, 2, 3, 5]));
  assert.deepEqual([...q.grad!.shape], [1, 2, 3, 4]);
  assert.deepEqual([...k.grad!.shape], [1, 2, 0, 4]);
});

test('invalid arguments throw typed errors naming the argument', () => {
  const q = zeros([2, 4, 5, 8]);
  const k = zeros([2, 2, 6, 8]);
  const v = zeros([2, 2, 6, 3]);
  const sdpa = scaledDotProductAttention;
  const throwsWith = (fn: () => unknown, type: typeof EngineError, arg: string) =>
    assert.throws(fn, (e: unknown) => e instanceof type && (e as EngineError).op === 'scaledDotProductAttention' && (e as EngineError).arg === arg);
  throwsWith(() => sdpa(zeros([2, 4, 5]), k, v), ShapeError, 'q');
  throwsWith(() => sdpa(q, zeros([2, 2, 6, 7]), v), ShapeError, 'k');
  throwsWith(() => sdpa(q, k, zeros([2, 3, 6, 3])), ShapeError, 'v');
  throwsWith(() => sdpa(q, k, zeros([2, 2, 7, 3])), ShapeError, 'v');
  throwsWith(() => sdpa(q, zeros([1, 2, 6, 8]), v), ShapeError, 'k');
  throwsWith(() => sdpa(zeros([2, 3, 5, 8]), k, v), ShapeError, 'q');
  throwsWith(() => sdpa(zeros([2, 4, 5, 0]), zeros([2, 2, 6, 0]), v), ShapeError, 'q');
  throwsWith(() => sdpa(q, k, v, { attnMask: zeros([2, 1, 5, 7]) }), ShapeError, 'options.attnMask');
  throwsWith(() => sdpa(q, k, v, { bias: zeros([1, 3, 5, 6]) }), ShapeError, 'options.bias');
  throwsWith(() => sdpa(q, k, v, { bias: zeros([1, 1, 4, 5, 6]) }), ShapeError, 'options.bias');
  throwsWith(() => sdpa(q, k, v, { attnMask: zeros([2, 1, 1, 6], 'int32') }), DTypeError, 'options.attnMask');
  throwsWith(() => sdpa(q, k, zeros([2, 2, 6, 3], 'bfloat16')), DTypeError, 'v');
  throwsWith(() => sdpa(q, k, v, { scale: Number.NaN }), EngineError, 'options.scale');
  throwsWith(() => sdpa(q, k, v, { dropoutP: 1 }), EngineError, 'options.dropoutP');
  throwsWith(() => sdpa(q, k, v, { dropoutP: -0.1 }), EngineError, 'options.dropoutP');
  throwsWith(() => sdpa(q, k, v, { dropoutP: 0.1, generator: { seed: 1 } as never }), EngineError, 'options.generator');
  throwsWith(() => sdpa(q, k, v, { isCausal: true } as never), EngineError, 'options.isCausal');
  const gone = zeros([2, 2, 6, 8]);
  gone.dispose();
  throwsWith(() => sdpa(q, gone, v), EngineError, 'k');
});
