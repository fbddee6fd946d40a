// Products of A·Bᵀ go through oneDNN's matmul primitive for some shapes (a long reduction, or a
// vocabulary-wide output) and through sgemm for the rest. Both paths against a float64 product:
// shapes on each side of the switch, with alpha (matmul's scale) and beta 1 (linear's bias), and
// the same product twice giving the same bits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linear, matmul, randn, type Tensor } from '../../src/engine/index.js';
import { Generator } from '../../src/engine/random.js';

const gen = new Generator(5);

/** alpha·A·Bᵀ (+ bias per column) in float64, A [M, K], B [N, K]. */
function reference(a: Tensor, b: Tensor, alpha: number, bias: Tensor | null): Float64Array {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[0]!;
  const av = a.toArray();
  const bv = b.toArray();
  const biasv = bias?.toArray();
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += av[i * k + p]! * bv[j * k + p]!;
      out[i * n + j] = alpha * s + (biasv ? biasv[j]! : 0);
    }
  }
  return out;
}

function assertClose(actual: Tensor, expected: Float64Array, k: number, label: string): void {
  const a = actual.toArray();
  assert.equal(a.length, expected.length, `${label}: element count`);
  // Sums of k products of unit normals: rounding grows like sqrt(k).
  const tol = 2e-6 * Math.sqrt(k) * 8;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - expected[i]!) <= tol, `${label}: element ${i} is ${a[i]}, expected ${expected[i]} (tol ${tol})`);
  }
}

// [M, N, K]: the first three take the primitive (K ≥ 1536 and ≥ 2N; N ≥ 16384), the rest sgemm
// (K just short, N too wide for K, M under 64).
const SHAPES = [
  [64, 96, 1536],
  [70, 700, 1600],
  [64, 16384, 8],
  [64, 96, 1535],
  [70, 801, 1600],
  [63, 96, 1536],
] as const;

for (const [m, n, k] of SHAPES) {
  test(`A·Bᵀ ${m}x${n}x${k}: alpha, bias and repeat runs match the float64 product`, () => {
    const a = randn([m, k], { generator: gen });
    const b = randn([n, k], { generator: gen });
    const scaled = matmul(a, b, { transB: true, alpha: 0.5 });
    assertClose(scaled, reference(a, b, 0.5, null), k, 'alpha 0.5');
    const bias = randn([n], { generator: gen });
    const withBias = linear(a, b, bias);
    assertClose(withBias, reference(a, b, 1, bias), k, 'bias');
    assert.deepEqual(linear(a, b, bias).toArray(), withBias.toArray(), 'same bits on a second run');
  });
}
