import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator } from '../../src/engine/index.js';
import { block, type Mat, mat, matmul, qr, scaleColumns, svd, svdLowRank, svdOfProduct, transpose } from '../../src/peft/utils/linalg.js';
import { seededRandom } from '../helpers/fuzz.js';

function random(rows: number, cols: number, seed: number): Mat {
  const rand = seededRandom(seed);
  return mat(rows, cols, Float64Array.from({ length: rows * cols }, () => rand() * 2 - 1));
}

function assertMatClose(a: Mat, b: Mat, tol: number, label: string): void {
  assert.deepEqual([a.rows, a.cols], [b.rows, b.cols], `${label}: shape`);
  a.data.forEach((v, i) => assert.ok(Math.abs(v - b.data[i]!) <= tol, `${label}: element ${i} is ${v}, expected ${b.data[i]}`));
}

function identity(n: number): Mat {
  const m = mat(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

for (const [rows, cols] of [[7, 4], [4, 7], [5, 5]] as const) {
  test(`qr of ${rows}x${cols}: Q orthonormal, R upper triangular, Q·R = A, LAPACK signs`, () => {
    const a = random(rows, cols, rows * 10 + cols);
    const { q, r } = qr(a);
    const k = Math.min(rows, cols);
    assertMatClose(matmul(transpose(q), q), identity(k), 1e-12, 'QᵀQ');
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) assert.equal(r.data[i * cols + j], 0);
    assertMatClose(matmul(q, r), a, 1e-12, 'QR');
    // Householder with LAPACK's sign choice: R's diagonal has the opposite sign of the reflected column's head.
    assert.ok(Math.sign(r.data[0]!) === -Math.sign(a.data[0]!));
  });

  test(`svd of ${rows}x${cols}: U·S·Vᵀ = A, orthonormal factors, descending values`, () => {
    const a = random(rows, cols, rows * 7 + cols);
    const { u, s, vt } = svd(a);
    const k = Math.min(rows, cols);
    assert.equal(s.length, k);
    for (let i = 1; i < k; i++) assert.ok(s[i - 1]! >= s[i]!);
    assertMatClose(matmul(transpose(u), u), identity(k), 1e-12, 'UᵀU');
    assertMatClose(matmul(vt, transpose(vt)), identity(k), 1e-12, 'VᵀV');
    assertMatClose(matmul(scaleColumns(u, s), vt), a, 1e-12, 'USVᵀ');
  });
}

test('svdOfProduct of thin factors equals the SVD of the product', () => {
  const B = random(9, 3, 1);
  const A = random(3, 6, 2);
  const direct = svd(matmul(B, A));
  const thin = svdOfProduct(B, A);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(direct.s[i]! - thin.s[i]!) < 1e-12);
  const r = (x: typeof thin) => matmul(scaleColumns(block(x.u, 0, x.u.rows, 0, 2), x.s), block(x.vt, 0, 2, 0, x.vt.cols));
  assertMatClose(r(thin), r(direct), 1e-12, 'rank-2 truncation');
});

test('svdLowRank recovers an exactly low-rank matrix', () => {
  const a = matmul(random(12, 2, 3), random(2, 10, 4));
  const { u, s, vt } = svdLowRank(a, 2, 2, new Generator(5));
  assertMatClose(matmul(scaleColumns(block(u, 0, 12, 0, 2), s.subarray(0, 2)), block(vt, 0, 2, 0, 10)), a, 1e-10, 'rank 2');
});
