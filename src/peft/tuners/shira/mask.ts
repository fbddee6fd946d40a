// SHiRA's random sparse mask (PEFT's shira/mask_functions.py random_mask): r · (in + out) entries of the [out, in]
// weight, the first of torch.randperm(out · in) from a CPU generator seeded with random_seed, as PEFT keeps them:
// rows and columns in row-major order (torch.where of the mask).
import { fromArray } from '../../../engine/ops/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import { TorchCpuGenerator } from '../../../engine/torch-cpu-random.js';

/** The seed of an unseeded torch.Generator (torch's default_rng_seed_val). */
const TORCH_DEFAULT_SEED = 67280421310721;

/** shira_indices: int32 [2, r · (in + out)], rows then columns of the masked entries. */
export function randomMaskIndices(outFeatures: number, inFeatures: number, r: number, seed: number | null): Tensor {
  const count = r * (outFeatures + inFeatures);
  const flat = new TorchCpuGenerator(seed ?? TORCH_DEFAULT_SEED).randperm(outFeatures * inFeatures, count).sort();
  const indices = new Int32Array(2 * count);
  for (let i = 0; i < count; i++) {
    indices[i] = Math.floor(flat[i]! / inFeatures);
    indices[count + i] = flat[i]! % inFeatures;
  }
  return fromArray(indices, [2, count], 'int32');
}
