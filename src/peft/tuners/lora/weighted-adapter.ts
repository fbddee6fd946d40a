// The factor arithmetic of PEFT's add_weighted_adapter for one layer: given the adapters present on the layer with
// their weights, the new adapter's A [r, in] and B [out, r].
import { fromArray } from '../../../engine/ops/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import { AdapterError } from '../../errors.js';
import { fromTensor, type Mat, mat, svdOfProduct } from '../../utils/linalg.js';

export type CombinationType = 'linear' | 'cat' | 'svd';

export interface WeightedFactor {
  A: Tensor;
  B: Tensor;
  /** The adapter's weight times its scaling. */
  weight: number;
}

function toTensor(m: Mat): Tensor {
  return fromArray(Float32Array.from(m.data), [m.rows, m.cols]);
}

/**
 * "cat": A = [w₁s₁A₁; w₂s₂A₂; …] and B = [B₁ B₂ …], zero-padded to `rank`. "linear": equal ranks; A = Σ ±√|wᵢsᵢ|·Aᵢ
 * (sign on A only) and B = Σ √|wᵢsᵢ|·Bᵢ, PEFT's approximation. "svd": the truncated SVD of Σ wᵢsᵢ·Bᵢ·Aᵢ, B = U·S and
 * A = Vᵀ, computed from the thin factors without forming the full product.
 */
export function combineFactors(type: CombinationType, factors: readonly WeightedFactor[], rank: number, inFeatures: number, outFeatures: number): { A: Tensor; B: Tensor } {
  if (factors.length === 0) throw new AdapterError('no adapter to combine on this layer');
  const A = mat(rank, inFeatures);
  const B = mat(outFeatures, rank);
  if (type === 'linear') {
    const r = factors[0]!.A.shape[0]!;
    if (factors.some((f) => f.A.shape[0] !== r)) throw new AdapterError('the linear combination needs adapters of equal rank');
    const Asum = mat(r, inFeatures);
    const Bsum = mat(outFeatures, r);
    for (const f of factors) {
      const root = Math.sqrt(Math.abs(f.weight));
      const a = f.A.toArray();
      const b = f.B.toArray();
      a.forEach((v, i) => (Asum.data[i]! += (f.weight >= 0 ? root : -root) * v));
      b.forEach((v, i) => (Bsum.data[i]! += root * v));
    }
    return { A: toTensor(Asum), B: toTensor(Bsum) };
  }
  // Stack the factors: B_cat [out, Σr] and A_cat [Σr, in] with the weights on A.
  const total = factors.reduce((n, f) => n + f.A.shape[0]!, 0);
  const Acat = mat(total, inFeatures);
  const Bcat = mat(outFeatures, total);
  let offset = 0;
  for (const f of factors) {
    const r = f.A.shape[0]!;
    const a = fromTensor(f.A);
    const b = fromTensor(f.B);
    for (let i = 0; i < r * inFeatures; i++) Acat.data[offset * inFeatures + i] = a.data[i]! * f.weight;
    for (let o = 0; o < outFeatures; o++) for (let k = 0; k < r; k++) Bcat.data[o * total + offset + k] = b.data[o * r + k]!;
    offset += r;
  }
  if (type === 'cat') {
    if (total > rank) throw new AdapterError(`the concatenated rank ${total} exceeds the new adapter's rank ${rank}`);
    A.data.set(Acat.data);
    for (let o = 0; o < outFeatures; o++) B.data.set(Bcat.data.subarray(o * total, (o + 1) * total), o * rank);
    return { A: toTensor(A), B: toTensor(B) };
  }
  const { u, s, vt } = svdOfProduct(Bcat, Acat);
  const keep = Math.min(rank, s.length);
  for (let k = 0; k < keep; k++) {
    for (let o = 0; o < outFeatures; o++) B.data[o * rank + k] = u.data[o * u.cols + k]! * s[k]!;
    A.data.set(vt.data.subarray(k * inFeatures, (k + 1) * inFeatures), k * inFeatures);
  }
  return { A: toTensor(A), B: toTensor(B) };
}
