// VeRA's shared projections as PEFT draws them (VeraModel._init_vera_A_vera_B): vera_A [r, in] then vera_B [out, r]
// from one torch CPU generator seeded with projection_prng_key, each kaiming-uniform with fan = its column count.
import { fromArray } from '../../../engine/ops/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import { TorchCpuGenerator } from '../../../engine/torch-cpu-random.js';

/** PEFT's VeRA _kaiming_init of a [rows, cols] tensor: uniform in ±bound, drawn from `generator`. */
export function kaimingInit(generator: TorchCpuGenerator, rows: number, cols: number): Tensor {
  // Gain sqrt(2) (kaiming for ReLU), fan_in = cols: bound = sqrt(3) · gain / sqrt(fan_in), computed in doubles as Python does.
  const bound = Math.sqrt(3) * (Math.SQRT2 / Math.sqrt(cols));
  return fromArray(generator.uniform(rows * cols, -bound, bound), [rows, cols]);
}

/** vera_A [r, inFeatures] and vera_B [outFeatures, r] for `key`, bit for bit as PEFT makes them. */
export function veraProjections(key: number, r: number, inFeatures: number, outFeatures: number): { A: Tensor; B: Tensor } {
  const generator = new TorchCpuGenerator(key);
  const A = kaimingInit(generator, r, inFeatures);
  const B = kaimingInit(generator, outFeatures, r);
  return { A, B };
}
