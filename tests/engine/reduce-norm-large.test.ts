// Shapes large enough to take the kernels' multithreaded, split-reduction and blocked-summation
// paths, checked against float64 math written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  crossEntropy, fromArray, Generator, layerNorm, logSoftmax, max, mean, randn, rmsNorm, softmax, sum, type Tensor,
} from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';

const tol = { atol: 1e-4, rtol: 1e-4 };
const gen = new Generator(1234);
const data = (t: Tensor) => t.toArray() as Float32Array;

function columnSums(x: Float32Array, rows: number, cols: number): number[] {
  const out = new Array<number>(cols).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c]! += x[r * cols + c]!;
  return out;
}

test('sum and mean over long and tall reductions match float64 sums', () => {
  for (const [rows, cols] of [[3000, 20], [3000, 200], [1, 70000]] as const) {
    const x = randn([rows, cols], { generator: gen, mean: 0.5 }).setRequiresGrad();
    const s = sum(x, { axis: 0 });
    assertClose(data(s), columnSums(data(x), rows, cols), tol, `sum axis 0 of [${rows}, ${cols}]`);
    const total = columnSums(data(x), rows * cols, 1)[0]!;
    const m = mean(x);
    assertClose(data(m), [total / (rows * cols)], tol, `mean of [${rows}, ${cols}]`);
    m.backward();
    assertClose(data(x.grad!), new Array<number>(rows * cols).fill(1 / (rows * cols)), tol, 'mean backward');
  }
});

test('max of a long row keeps the first of tied maxima across threads', () => {
  const values = new Float32Array(80000).map((_, i) => Math.sin(i));
  values[50000] = 5;
  values[70000] = 5;
  const x = fromArray(values, [1, 80000]).setRequiresGrad();
  const v = max(x, { axis: 1 });
  assert.equal(v.item(), 5);
  v.backward();
  const g = data(x.grad!);
  assert.equal(g[50000], 1);
  assert.equal(g.reduce((p, q) => p + q, 0), 1);
});

function softmaxRows(x: Float32Array, rows: number, n: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, x[r * n + i]!);
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(x[r * n + i]! - m);
    for (let i = 0; i < n; i++) y[r * n + i] = Math.exp(x[r * n + i]! - m) / s;
  }
  return y;
}

test('softmax and logSoftmax of long rows and their backward match float64 math', () => {
  const [rows, n] = [6, 5000];
  const x = randn([rows, n], { generator: gen, std: 4 }).setRequiresGrad();
  const g = randn([rows, n], { generator: gen });
  const p = softmaxRows(data(x), rows, n);
  const gd = data(g);
  const dSoft = new Float64Array(rows * n);
  const dLog = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let gs = 0;
    for (let i = 0; i < n; i++) {
      dot += gd[r * n + i]! * p[r * n + i]!;
      gs += gd[r * n + i]!;
    }
    for (let i = 0; i < n; i++) {
      dSoft[r * n + i] = p[r * n + i]! * (gd[r * n + i]! - dot);
      dLog[r * n + i] = gd[r * n + i]! - p[r * n + i]! * gs;
    }
  }
  const y = softmax(x);
  assertClose(data(y), p, tol, 'softmax');
  y.backward(g);
  assertClose(data(x.grad!), dSoft, tol, 'softmax backward');
  x.zeroGrad();
  const l = logSoftmax(x);
  assertClose(data(l), p.map(Math.log), tol, 'logSoftmax');
  l.backward(g);
  assertClose(data(x.grad!), dLog, tol, 'logSoftmax backward');
});

test('softmax along the first axis splits its columns across threads and matches float64 math', () => {
  const [n, cols] = [300, 200];
  const x = randn([n, cols], { generator: gen, std: 3 });
  const xd = data(x);
  const transposed = new Float32Array(n * cols);
  for (let r = 0; r < n; r++) for (let c = 0; c < cols; c++) transposed[c * n + r] = xd[r * cols + c]!;
  const pT = softmaxRows(transposed, cols, n);
  const expected = new Float64Array(n * cols);
  for (let r = 0; r < n; r++) for (let c = 0; c < cols; c++) expected[r * cols + c] = pT[c * n + r]!;
  assertClose(data(softmax(x, 0)), expected, tol, 'softmax axis 0');
  assertClose(data(logSoftmax(x, 0)), expected.map(Math.log), tol, 'logSoftmax axis 0');
});

interface NormReference {
  y: Float64Array;
  dx: Float64Array;
  dw: Float64Array;
  db: Float64Array;
}

function normReference(x: Float32Array, w: Float32Array, b: Float32Array | null, g: Float32Array, d: number, eps: number, center: boolean): NormReference {
  const rows = x.length / d;
  const ref = { y: new Float64Array(x.length), dx: new Float64Array(x.length), dw: new Float64Array(d), db: new Float64Array(d) };
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mu = 0;
    if (center) for (let i = 0; i < d; i++) mu += x[o + i]! / d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[o + i]! - mu) ** 2 / d;
    const rstd = 1 / Math.sqrt(v + eps);
    let su = 0;
    let sux = 0;
    for (let i = 0; i < d; i++) {
      const xh = (x[o + i]! - mu) * rstd;
      const u = g[o + i]! * w[i]!;
      ref.y[o + i] = xh * w[i]! + (b === null ? 0 : b[i]!);
      ref.dw[i]! += g[o + i]! * xh;
      ref.db[i]! += g[o + i]!;
      su += u / d;
      sux += (u * xh) / d;
    }
    for (let i = 0; i < d; i++) {
      const xh = (x[o + i]! - mu) * rstd;
      ref.dx[o + i] = rstd * (g[o + i]! * w[i]! - (center ? su : 0) - xh * sux);
    }
  }
  return ref;
}

test('layerNorm and rmsNorm at GPT-2 row width: forward and all gradients match float64 math', () => {
  const [rows, d] = [96, 768];
  const x = randn([rows, d], { generator: gen, mean: 0.3, std: 2 });
  const w = randn([d], { generator: gen, mean: 1, std: 0.2 });
  const b = randn([d], { generator: gen });
  const g = randn([rows, d], { generator: gen });
  for (const center of [true, false]) {
    const label = center ? 'layerNorm' : 'rmsNorm';
    const ref = normReference(data(x), data(w), center ? data(b) : null, data(g), d, 1e-5, center);
    for (const t of [x, w, b]) t.setRequiresGrad().zeroGrad();
    const y = center ? layerNorm(x, w, b, 1e-5) : rmsNorm(x, w, 1e-5);
    assertClose(data(y), ref.y, tol, label);
    y.backward(g);
    assertClose(data(x.grad!), ref.dx, tol, `${label} dx`);
    assertClose(data(w.grad!), ref.dw, tol, `${label} dweight`);
    if (center) assertClose(data(b.grad!), ref.db, tol, `${label} dbias`);
  }
});

test('layerNorm backward computes only the gradients that are needed', () => {
  const [rows, d] = [64, 768];
  const x = randn([rows, d], { generator: gen });
  const w = randn([d], { generator: gen, mean: 1, std: 0.2 });
  const b = randn([d], { generator: gen });
  const g = randn([rows, d], { generator: gen });
  const ref = normReference(data(x), data(w), data(b), data(g), d, 1e-5, true);

  x.setRequiresGrad();
  layerNorm(x, w, b).backward(g);
  assertClose(data(x.grad!), ref.dx, tol, 'frozen weights: dx');
  assert.equal(w.grad, null);

  x.setRequiresGrad(false).zeroGrad();
  w.setRequiresGrad();
  layerNorm(x, w, b).backward(g);
  assertClose(data(w.grad!), ref.dw, tol, 'weight only: dweight');
  assert.equal(x.grad, null);
  assert.equal(b.grad, null);
});

test('crossEntropy over a GPT-2 vocabulary matches float64 math, with ignored rows', () => {
  const [rows, vocab] = [6, 50257];
  const x = randn([rows, vocab], { generator: gen, std: 3 }).setRequiresGrad();
  const t = [17, -100, 50256, 0, 31337, -100];
  const xd = data(x);
  const p = softmaxRows(xd, rows, vocab);
  let total = 0;
  const kept = t.filter((c) => c !== -100).length;
  const dx = new Float64Array(rows * vocab);
  t.forEach((c, r) => {
    if (c === -100) return;
    total += -Math.log(p[r * vocab + c]!);
    for (let i = 0; i < vocab; i++) dx[r * vocab + i] = (p[r * vocab + i]! - (i === c ? 1 : 0)) / kept;
  });
  const loss = crossEntropy(x, fromArray(Int32Array.from(t)));
  assertClose([loss.item()], [total / kept], tol, 'loss');
  loss.backward();
  assertClose(data(x.grad!), dx, tol, 'dlogits');
});
