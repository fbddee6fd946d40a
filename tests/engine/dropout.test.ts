import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropout, Generator, getNumThreads, ones, rand, randn, setNumThreads } from '../../src/engine/index.js';

test('the same seed gives the same mask, another seed a different one', () => {
  const x = ones([4096]);
  const a = dropout(x, 0.5, { generator: new Generator(7) }).toArray();
  const b = dropout(x, 0.5, { generator: new Generator(7) }).toArray();
  const c = dropout(x, 0.5, { generator: new Generator(8) }).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('successive calls draw fresh masks from the generator stream', () => {
  const gen = new Generator(3);
  const x = ones([4096]);
  const first = dropout(x, 0.5, { generator: gen }).toArray();
  assert.equal(gen.getState().counter, 4096);
  assert.notDeepEqual(dropout(x, 0.5, { generator: gen }).toArray(), first);
});

test('kept elements are scaled by 1/(1-p), about p of them dropped, the mean preserved', () => {
  const n = 200_000;
  const p = 0.3;
  const x = rand([n], { low: 1, high: 2, generator: new Generator(1) });
  const y = dropout(x, p, { generator: new Generator(2) });
  const scale = Math.fround(1 / (1 - p));
  const xs = x.data();
  const ys = y.data();
  let dropped = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    if (ys[i] === 0) dropped++;
    else assert.equal(ys[i], Math.fround(xs[i]! * scale));
    sumX += xs[i]!;
    sumY += ys[i]!;
  }
  // Binomial standard deviation of the dropped fraction is about 0.001 here.
  assert.ok(Math.abs(dropped / n - p) < 0.006, `dropped fraction ${dropped / n}`);
  assert.ok(Math.abs(sumY / sumX - 1) < 0.01, `mean ratio ${sumY / sumX}`);
});

test('backward applies the forward mask: grad = mask · 1/(1-p) · g exactly', () => {
  const p = 0.4;
  const x = rand([50_001], { low: 0.5, high: 1.5 }).setRequiresGrad();
  const y = dropout(x, p, { generator: new Generator(11) });
  const g = randn([50_001]);
  y.backward(g);
  const scale = Math.fround(1 / (1 - p));
  const ys = y.data();
  const gs = g.data();
  const expected = Float32Array.from(gs, (gi, i) => (ys[i] === 0 ? 0 : Math.fround(gi * scale)));
  assert.deepEqual(x.grad!.data(), expected);
});

test('the mask does not depend on the thread count', () => {
  const threads = getNumThreads();
  try {
    const x = ones([100_003]);
    setNumThreads(1);
    const one = dropout(x, 0.25, { generator: new Generator(5) }).toArray();
    setNumThreads(2);
    assert.deepEqual(dropout(x, 0.25, { generator: new Generator(5) }).toArray(), one);
  } finally {
    setNumThreads(threads);
  }
});

test('p = 0 and evaluation mode are the identity, gradient included; p = 1 drops everything', () => {
  const x = randn([3, 5]).setRequiresGrad();
  const gen = new Generator(9);
  for (const y of [dropout(x, 0, { generator: gen }), dropout(x, 0.7, { training: false, generator: gen })]) {
    assert.deepEqual(y.toArray(), x.toArray());
    y.backward(ones([3, 5]));
    assert.deepEqual(x.grad!.toArray(), new Float32Array(15).fill(1));
    x.zeroGrad();
  }
  assert.equal(gen.getState().counter, 0, 'the identity draws nothing');
  const z = dropout(x, 1, { generator: gen });
  assert.deepEqual(z.toArray(), new Float32Array(15));
  z.backward(ones([3, 5]));
  assert.deepEqual(x.grad!.toArray(), new Float32Array(15));
});
