// Small dense linear algebra in float64 for adapter initialisation and combination: Householder QR (LAPACK's sign
// convention, as torch.linalg.qr), one-sided Jacobi SVD, randomized truncated SVD (torch.svd_lowrank) and the SVD of
// a product of thin factors. Meant for weight-sized matrices; the Jacobi SVD costs O(m·n·min(m, n)) per sweep.
import { randn } from '../../engine/ops/creation.js';
import type { Generator } from '../../engine/random.js';
import type { Tensor } from '../../engine/tensor.js';

/** A row-major float64 matrix. */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function mat(rows: number, cols: number, data = new Float64Array(rows * cols)): Mat {
  return { rows, cols, data };
}

/** A 2-D float32 tensor as a float64 matrix, optionally transposed. */
export function fromTensor(t: Tensor, transposed = false): Mat {
  const [r, c] = t.shape as [number, number];
  const src = t.toArray();
  const m = mat(r, c, Float64Array.from(src));
  return transposed ? transpose(m) : m;
}

export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return out;
}

export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new RangeError(`linalg.matmul: ${a.rows}x${a.cols} · ${b.rows}x${b.cols}`);
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    const row = out.data.subarray(i * b.cols, (i + 1) * b.cols);
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k]!;
      if (v === 0) continue;
      const bRow = b.data.subarray(k * b.cols, (k + 1) * b.cols);
      for (let j = 0; j < b.cols; j++) row[j]! += v * bRow[j]!;
    }
  }
  return out;
}

/** Rows [r0, r1) and columns [c0, c1). */
export function block(a: Mat, r0: number, r1: number, c0: number, c1: number): Mat {
  const out = mat(r1 - r0, c1 - c0);
  for (let i = r0; i < r1; i++) out.data.set(a.data.subarray(i * a.cols + c0, i * a.cols + c1), (i - r0) * (c1 - c0));
  return out;
}

/** Multiplies column j by s[j]. */
export function scaleColumns(a: Mat, s: ArrayLike<number>): Mat {
  const out = mat(a.rows, a.cols, a.data.slice());
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j]! *= s[j]!;
  return out;
}

/** Multiplies row i by s[i]. */
export function scaleRows(a: Mat, s: ArrayLike<number>): Mat {
  const out = mat(a.rows, a.cols, a.data.slice());
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j]! *= s[i]!;
  return out;
}

/**
 * Reduced QR (Q: m×k, R: k×n, k = min(m, n)) by Householder reflections with LAPACK's choice of sign
 * (R's diagonal entry has the opposite sign of the column's leading entry), so it matches torch.linalg.qr.
 */
export function qr(a: Mat): { q: Mat; r: Mat } {
  const { rows: m, cols: n } = a;
  const k = Math.min(m, n);
  const R = a.data.slice();
  const vs: Float64Array[] = [];
  const taus: number[] = [];
  for (let j = 0; j < k; j++) {
    const alpha = R[j * n + j]!;
    let xnorm = 0;
    for (let i = j + 1; i < m; i++) xnorm += R[i * n + j]! ** 2;
    xnorm = Math.sqrt(xnorm);
    const v = new Float64Array(m - j);
    v[0] = 1;
    if (xnorm === 0) {
      vs.push(v);
      taus.push(0);
      continue;
    }
    const norm = Math.hypot(alpha, xnorm);
    const beta = alpha >= 0 ? -norm : norm;
    const tau = (beta - alpha) / beta;
    for (let i = j + 1; i < m; i++) v[i - j] = R[i * n + j]! / (alpha - beta);
    // R[j:, j:] -= tau · v · (vᵀ R[j:, j:])
    for (let c = j; c < n; c++) {
      let dot = 0;
      for (let i = j; i < m; i++) dot += v[i - j]! * R[i * n + c]!;
      dot *= tau;
      for (let i = j; i < m; i++) R[i * n + c]! -= dot * v[i - j]!;
    }
    R[j * n + j] = beta;
    for (let i = j + 1; i < m; i++) R[i * n + j] = 0;
    vs.push(v);
    taus.push(tau);
  }
  // Q = H_0 · … · H_{k-1} applied to the first k columns of the identity.
  const Q = new Float64Array(m * k);
  for (let i = 0; i < k; i++) Q[i * k + i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const v = vs[j]!;
    const tau = taus[j]!;
    if (tau === 0) continue;
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let i = j; i < m; i++) dot += v[i - j]! * Q[i * k + c]!;
      dot *= tau;
      for (let i = j; i < m; i++) Q[i * k + c]! -= dot * v[i - j]!;
    }
  }
  return { q: mat(m, k, Q), r: block(mat(m, n, R), 0, k, 0, n) };
}

export interface Svd {
  /** m×k left singular vectors. */
  u: Mat;
  /** k singular values, descending. */
  s: Float64Array;
  /** k×n right singular vectors (transposed). */
  vt: Mat;
}

/** Thin SVD (k = min(m, n)) by one-sided Jacobi rotations. */
export function svd(a: Mat): Svd {
  if (a.rows < a.cols) {
    const t = svd(transpose(a));
    return { u: transpose(t.vt), s: t.s, vt: transpose(t.u) };
  }
  const { rows: m, cols: n } = a;
  // Columns of A and V, each contiguous.
  const cols = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => a.data[i * n + j]!));
  const vcols = Array.from({ length: n }, (_, j) => {
    const v = new Float64Array(n);
    v[j] = 1;
    return v;
  });
  const eps = 1e-15;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const ap = cols[p]!;
        const aq = cols[q]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += ap[i]! * ap[i]!;
          beta += aq[i]! * aq[i]!;
          gamma += ap[i]! * aq[i]!;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (const [x, y, len] of [[ap, aq, m], [vcols[p]!, vcols[q]!, n]] as const) {
          for (let i = 0; i < len; i++) {
            const xi = x[i]!;
            const yi = y[i]!;
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
          }
        }
      }
    }
    if (!rotated) break;
  }
  const norms = cols.map((c) => Math.sqrt(c.reduce((acc, v) => acc + v * v, 0)));
  const order = norms.map((_, j) => j).sort((x, y) => norms[y]! - norms[x]!);
  const u = mat(m, n);
  const vt = mat(n, n);
  const s = new Float64Array(n);
  order.forEach((j, k) => {
    s[k] = norms[j]!;
    for (let i = 0; i < m; i++) u.data[i * n + k] = norms[j]! === 0 ? 0 : cols[j]![i]! / norms[j]!;
    vt.data.set(vcols[j]!, k * n);
  });
  return { u, s, vt };
}

/** The SVD of B·A for thin factors B (m×R) and A (R×n), without forming the m×n product. */
export function svdOfProduct(B: Mat, A: Mat): Svd {
  const qb = qr(B);
  const qa = qr(transpose(A));
  const core = svd(matmul(qb.r, transpose(qa.r)));
  return { u: matmul(qb.q, core.u), s: core.s, vt: transpose(matmul(qa.q, transpose(core.vt))) };
}

/**
 * torch.svd_lowrank(a, q, niter): a rank-q SVD from a randomized range finder with `niter` subspace iterations
 * (the random start comes from `generator`, so the result differs from torch's).
 */
export function svdLowRank(a: Mat, q: number, niter: number, generator?: Generator): Svd {
  const omega = randn([a.cols, q], { generator });
  let basis = qr(matmul(a, fromTensor(omega))).q;
  omega.dispose();
  const at = transpose(a);
  for (let i = 0; i < niter; i++) {
    basis = qr(matmul(at, basis)).q;
    basis = qr(matmul(a, basis)).q;
  }
  const small = svd(matmul(transpose(basis), a));
  return { u: matmul(basis, small.u), s: small.s, vt: small.vt };
}
