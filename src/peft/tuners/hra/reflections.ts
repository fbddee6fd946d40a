// The orthogonal matrix H [in, in] of one HRA adapter (PEFT's get_delta_weight), applied to rows x [..., in] without
// forming it. From the columns u₀ … u_{r-1} of hra_u [in, r]: the chain of Householder reflections
// H = (I - 2û₀û₀ᵀ)(I - 2û₁û₁ᵀ)…(I - 2û_{r-1}û_{r-1}ᵀ) of the unit columns ûᵢ, or with Gram–Schmidt the one reflection
// H = I - 2QQᵀ across the span of the orthonormalised columns Q. x·Hᵀ is the chain taken the other way round.
import { div, mul, sub } from '../../../engine/ops/binary.js';
import { concat, split } from '../../../engine/ops/join.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { sum } from '../../../engine/ops/reduce.js';
import { sqrt } from '../../../engine/ops/unary.js';
import type { Tensor } from '../../../engine/tensor.js';

export interface ReflectionOptions {
  /** Orthonormalise the columns first (apply_GS). */
  gramSchmidt: boolean;
  /** Multiply by Hᵀ = H⁻¹ instead of H. */
  transposed?: boolean;
}

/** Each column of `m` [in, k] divided by its Euclidean norm. */
function unitColumns(m: Tensor): Tensor {
  return div(m, sqrt(sum(mul(m, m), { axis: 0, keepDim: true })));
}

/** PEFT's Gram–Schmidt: each column minus its projections onto the unit columns before it, then normalised. */
function gramSchmidt(u: Tensor): Tensor {
  const basis: Tensor[] = [];
  for (let v of split(u, 1, 1)) {
    for (const q of basis) v = sub(v, mul(matmul(q, v, { transA: true }), q));
    basis.push(unitColumns(v));
  }
  return concat(basis, 1);
}

/** x - 2(x·v)vᵀ for the unit column(s) `v` [in, k] with orthonormal columns. */
function reflectAcross(x: Tensor, v: Tensor): Tensor {
  return sub(x, matmul(matmul(x, v), v, { transB: true, alpha: 2 }));
}

/** x [..., in] times H (or Hᵀ with `transposed`) of the reflection vectors `u` [in, r]. */
export function applyReflections(x: Tensor, u: Tensor, options: ReflectionOptions): Tensor {
  if (options.gramSchmidt) return reflectAcross(x, gramSchmidt(u));
  const columns = split(unitColumns(u), 1, 1);
  if (options.transposed ?? false) columns.reverse();
  return columns.reduce(reflectAcross, x);
}
