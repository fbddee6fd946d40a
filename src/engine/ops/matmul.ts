// Matrix products through oneDNN. a: [..., M, K] (or [..., K, M] with transA), b: [..., K, N] (or
// [..., N, K] with transB). Batch dims broadcast; a 2-D b against a batched a (the Linear case) is
// one large GEMM over the flattened rows. The backward computes only the gradients that are needed
// (a frozen weight costs no weight-gradient GEMM).
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFinite, checkFlag, checkFloat, checkMinRank, checkOptions } from './check.js';
import { expand, sumToShape } from './view.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Multiplies the product (C = alpha · op(A) · op(B)). */
  alpha?: number;
}

export function matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor {
  checkFloat('matmul', 'a', a);
  checkFloat('matmul', 'b', b);
  checkMinRank('matmul', 'a', a, 2);
  checkMinRank('matmul', 'b', b, 2);
  const given = checkOptions('matmul', options, ['transA', 'transB', 'alpha']);
  const transA = checkFlag('matmul', 'options.transA', given.transA, false);
  const transB = checkFlag('matmul', 'options.transB', given.transB, false);
  const alpha = checkFinite('matmul', 'options.alpha', given.alpha, 1);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) {
    throw new ShapeError('matmul', 'b', `inner dims differ: a ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} · b ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} (${k} vs ${kb})`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes('matmul', aBatch, bBatch);
  const batch = sizeOf(batchShape);
  // Rows of a (and of the output) when a 2-D b is applied to all of them in one GEMM.
  const rows = sizeOf(a.shape.slice(0, -1));
  const out = Tensor.empty([...batchShape, m, n]);

  let A = a;
  let B = b;
  const temps: Tensor[] = [];
  if (b.ndim === 2 && !transA) {
    native.matmul(a.buffer, 0, b.buffer, 0, out.buffer, 0, 1, rows, n, k, false, transB, alpha, 0, 0, 0, 0);
  } else {
    const aFull = sizeOf(aBatch) === batch || sizeOf(aBatch) === 1;
    const bFull = sizeOf(bBatch) === batch || sizeOf(bBatch) === 1;
    if (!aFull) temps.push((A = expand(a, [...batchShape, ar, ac])));
    if (!bFull) temps.push((B = expand(b, [...batchShape, br, bc])));
    const strideA = sizeOf(A.shape.slice(0, -2)) === 1 ? 0 : ar * ac;
    const strideB = sizeOf(B.shape.slice(0, -2)) === 1 ? 0 : br * bc;
    native.matmul(A.buffer, 0, B.buffer, 0, out.buffer, 0, batch, m, n, k, transA, transB, alpha, 0, strideA, strideB, m * n);
  }
  for (const t of temps) t.dispose();

  return record(
    'matmul',
    out,
    [a, b],
    (g, [needA, needB], [sa, sb]) => {
      const scaled = alpha === 1 ? {} : { alpha };
      let ga: Tensor | null = null;
      let gb: Tensor | null = null;
      if (needA) {
        ga = transA
          ? matmul(sb!, g, { transA: transB, transB: true, ...scaled })
          : matmul(g, sb!, { transB: !transB, ...scaled });
        ga = sumToShape(ga, a.shape);
      }
      if (needB) {
        if (b.ndim === 2 && !transA && a.ndim > 2) {
          const a2 = sa!.view([rows, k]);
          const g2 = g.view([rows, n]);
          gb = transB ? matmul(g2, a2, { transA: true, ...scaled }) : matmul(a2, g2, { transA: true, ...scaled });
        } else {
          gb = transB
            ? matmul(g, sa!, { transA: true, transB: transA, ...scaled })
            : matmul(sa!, g, { transA: !transA, ...scaled });
          gb = sumToShape(gb, b.shape);
        }
      }
      return [ga, gb];
    },
    [a, b],
  );
}
