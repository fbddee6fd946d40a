// The two ways a MiSS block acts on a layer (PEFT's miss/layer.py), for a base weight W [out, in].
//
// Shared block B [r, out] (the balance and mini variants): every r-column shard of W gains Bᵀ, W[o, j] += B[j mod r, o]
// (a last partial shard uses B's first rows). On the input side this is x·Wᵀ plus (the sum of x's r-wide shards)·B.
//
// Bat block B [out/r, r, r]: the r×r shard Wₒᵢ of W (row of shards o, column of shards i) becomes Wₒᵢ·(I + Bₒ) + Bₒ,
// which Wₒᵢ = (W'ₒᵢ - Bₒ)·(I + Bₒ)⁻¹ undoes.
import { add, sub } from '../../../engine/ops/binary.js';
import { concat } from '../../../engine/ops/join.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { inverse } from '../../../engine/ops/inverse.js';
import { zeros } from '../../../engine/ops/creation.js';
import { sum } from '../../../engine/ops/reduce.js';
import { contiguous, permute, reshape, unsqueeze } from '../../../engine/ops/view.js';
import type { Tensor } from '../../../engine/tensor.js';
import { identity } from '../oft/rotation.js';

/** The mini block [r, mini_r] repeated along the outputs to [r, out] (torch's repeat(1, out / mini_r)). */
export function repeatAlongOutputs(block: Tensor, outFeatures: number): Tensor {
  const copies = outFeatures / block.shape[1]!;
  return copies === 1 ? block : concat(Array.from({ length: copies }, () => block), 1);
}

/** (The sum of the r-wide shards of x [..., in], zero-padded to a multiple of r)·B, with B [r, out]. */
export function sharedBlockUpdate(x: Tensor, block: Tensor): Tensor {
  const r = block.shape[0]!;
  const inFeatures = x.shape[x.ndim - 1]!;
  const lead = x.shape.slice(0, -1);
  const padding = (r - (inFeatures % r)) % r;
  const padded = padding === 0 ? x : concat([x, zeros([...lead, padding])], x.ndim - 1);
  const shards = reshape(padded, [...lead, (inFeatures + padding) / r, r]);
  return matmul(sum(shards, { axis: x.ndim - 1 }), block);
}

/** W [out, in] plus sign·Bᵀ on every shard, in place, with B [r, out] as a flat array. */
export function addSharedBlock(w: Float32Array, block: Float32Array, r: number, outFeatures: number, sign: 1 | -1): void {
  const inFeatures = w.length / outFeatures;
  for (let o = 0; o < outFeatures; o++) {
    for (let j = 0; j < inFeatures; j++) w[o * inFeatures + j] = w[o * inFeatures + j]! + sign * block[(j % r) * outFeatures + o]!;
  }
}

/** W [out, in] as its r×r shards [out/r, in/r, r, r], and back. */
function toShards(w: Tensor, r: number): Tensor {
  const [out, inF] = w.shape as [number, number];
  return permute(reshape(w, [out / r, r, inF / r, r]), [0, 2, 1, 3]);
}

function fromShards(shards: Tensor): Tensor {
  const [o, i, r] = shards.shape as [number, number, number, number];
  return reshape(contiguous(permute(shards, [0, 2, 1, 3])), [o * r, i * r]);
}

/** The weight with a bat block applied: each shard Wₒᵢ·(I + Bₒ) + Bₒ = Wₒᵢ + (Wₒᵢ·Bₒ + Bₒ). Differentiable in both. */
export function batWeight(w: Tensor, block: Tensor): Tensor {
  const b = unsqueeze(block, 1);
  const shards = toShards(w, block.shape[2]!);
  return add(w, fromShards(add(matmul(shards, b), b)));
}

/** The weight before a bat block was applied: (W'ₒᵢ - Bₒ)·(I + Bₒ)⁻¹ per shard. */
export function batWeightRemoved(w: Tensor, block: Tensor): Tensor {
  const r = block.shape[2]!;
  const b = unsqueeze(block, 1);
  return fromShards(matmul(sub(toShards(w, r), b), unsqueeze(inverse(add(block, identity(r))), 1)));
}
