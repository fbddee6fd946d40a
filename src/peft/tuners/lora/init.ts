// Initialisations that derive A and B from the base weight (PEFT's pissa_init, olora_init) or draw them with a
// structure (orthogonal_init). Weights are handled as [out, in] float64 matrices; the caller writes the results
// back in the layer's layout. PiSSA and OLoRA also return the residual base weight W - scaling·B·A; they need
// r <= min(in, out), which the layer checks.
import { randn } from '../../../engine/ops/creation.js';
import type { Generator } from '../../../engine/random.js';
import { block, fromTensor, type Mat, matmul, qr, scaleColumns, scaleRows, svd, svdLowRank, transpose } from '../../utils/linalg.js';

export interface FactorInit {
  /** [r, in] */
  A: Mat;
  /** [out, r] */
  B: Mat;
  /** The base weight with scaling·B·A taken out, [out, in]; absent when the base is left alone. */
  residual?: Mat;
}

function residual(W: Mat, A: Mat, B: Mat, scaling: number): Mat {
  const ba = matmul(B, A);
  const out = W.data.slice();
  for (let i = 0; i < out.length; i++) out[i]! -= scaling * ba.data[i]!;
  return { rows: W.rows, cols: W.cols, data: out };
}

/**
 * PiSSA: the top-r singular triplets of W, split evenly between A and B after dividing the singular values by the
 * scaling; `niter` selects the randomized SVD (init "pissa_niter_<n>").
 */
export function pissaInit(W: Mat, r: number, scaling: number, niter?: number, generator?: Generator): FactorInit {
  const { u, s, vt } = niter === undefined ? svd(W) : svdLowRank(W, r, niter, generator);
  const root = Array.from(s.subarray(0, r), (v) => Math.sqrt(v / scaling));
  const A = scaleRows(block(vt, 0, r, 0, vt.cols), root);
  const B = scaleColumns(block(u, 0, u.rows, 0, r), root);
  return { A, B, residual: residual(W, A, B, scaling) };
}

/** OLoRA: W = Q·R; A = the first r rows of R, B = the first r columns of Q. */
export function oloraInit(W: Mat, r: number, scaling: number): FactorInit {
  const { q, r: R } = qr(W);
  const A = block(R, 0, r, 0, R.cols);
  const B = block(q, 0, q.rows, 0, r);
  return { A, B, residual: residual(W, A, B, scaling) };
}

/** Orthogonal init (r even): A and B built from the odd and even rows of a random orthogonal r×r matrix; base untouched. */
export function orthogonalInit(inFeatures: number, outFeatures: number, r: number, generator?: Generator): FactorInit {
  const draw = (rows: number, cols: number): Mat => {
    const t = randn([rows, cols], { generator });
    const m = fromTensor(t);
    t.dispose();
    return m;
  };
  const { q } = qr(draw(r, r));
  const rowsOf = (start: number): Mat => {
    const picked = { rows: r / 2, cols: r, data: new Float64Array((r / 2) * r) };
    for (let i = 0; i < r / 2; i++) picked.data.set(q.data.subarray((start + 2 * i) * r, (start + 2 * i + 1) * r), i * r);
    return picked;
  };
  const tenth = (m: Mat): Mat => ({ ...m, data: m.data.map((v) => v / 10) });
  const A = tenth(transpose(matmul(draw(inFeatures, r / 2), rowsOf(0))));
  const B = tenth(matmul(transpose(draw(r / 2, outFeatures)), rowsOf(1)));
  return { A, B };
}
