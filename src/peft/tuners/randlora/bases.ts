// RandLoRA's shared random bases as PEFT draws them (RandLoraModel._init_randlora_A_randlora_B and its sparse
// variant), bit for bit, from one torch CPU generator seeded with projection_prng_key. randlora_A is [r, 1, min_dim],
// randlora_B [max_dim, num_bases, r], where min_dim / max_dim are the smaller / larger side of the largest targeted
// layer and num_bases = ceil(min_dim / r). Dense bases are kaiming-uniform draws made in bfloat16 and divided by
// their bfloat16 standard deviation (the layers then hold them as float32); sparse ones are ternary float32 draws.
import { fromArray } from '../../../engine/ops/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import { TorchCpuGenerator } from '../../../engine/torch-cpu-random.js';

export interface RandLoraBasesOptions {
  r: number;
  /** Largest targeted layer as [out, in]. */
  largestShape: readonly [number, number];
  sparse: boolean;
  verySparse: boolean;
}

/** ceil(minDim / r): enough bases of rank r for a full-rank update. */
export function numBases(minDim: number, r: number): number {
  return Math.ceil(minDim / r);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bfloat16 nearest to `x` (ties to even, after rounding to float32), as a number. */
function toBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f32[0];
}

/** torch's std (correction 1) of the values, accumulated in doubles. */
function std(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return Math.sqrt(ss / (values.length - 1));
}

/**
 * `torch.empty(count, dtype=bfloat16).uniform_(-bound, bound)`: torch draws as for float32 and rounds to bfloat16,
 * turning a value rounded up onto the upper bound into the lower bound, to keep the range half-open.
 */
function uniformBf16(generator: TorchCpuGenerator, count: number, bound: number): Float32Array {
  const to = toBf16(bound);
  const from = toBf16(-bound);
  return generator.uniform(count, -bound, bound).map((u) => {
    const v = toBf16(u);
    return v === to ? from : v;
  });
}

/** kaiming_uniform_(a=sqrt(5)) of a bfloat16 tensor whose fan-in is `fanIn`. */
function kaimingBf16(generator: TorchCpuGenerator, count: number, fanIn: number): Float32Array {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2.0 / (1 + a ** 2));
  return uniformBf16(generator, count, Math.sqrt(3.0) * (gain / Math.sqrt(fanIn)));
}

/** Divides by the bfloat16 standard deviation, each quotient rounded to bfloat16. */
function normalizeBf16(values: Float32Array): Float32Array {
  const s = toBf16(std(values));
  return values.map((v) => toBf16(v / s));
}

/** Ternary values: -1 below 1/(2·sparsity), 1 above 1 - 1/(2·sparsity) (thresholds as float32), else 0; then over their std. */
function ternary(uniform: Float32Array, sparsity: number): Float32Array {
  const low = Math.fround(1 / (2 * sparsity));
  const high = Math.fround(1 - 1 / (2 * sparsity));
  const t = uniform.map((u) => (u < low ? -1 : u > high ? 1 : 0));
  const s = Math.fround(std(t));
  return t.map((v) => v / s);
}

/** randlora_A [r, 1, minDim] and randlora_B [maxDim, numBases, r] for `key`, as PEFT makes them. */
export function randLoraBases(key: number, options: RandLoraBasesOptions): { A: Tensor; B: Tensor } {
  const { r, largestShape, sparse, verySparse } = options;
  const minDim = Math.min(...largestShape);
  const maxDim = Math.max(...largestShape);
  const bases = numBases(minDim, r);
  const generator = new TorchCpuGenerator(key);
  let A: Float32Array;
  let B: Float32Array;
  if (sparse || verySparse) {
    const sparsity = verySparse ? Math.sqrt(minDim) : 3;
    A = ternary(generator.uniform(r * minDim, 0, 1), sparsity);
    B = ternary(generator.uniform(maxDim * bases * r, 0, 1), sparsity);
  } else {
    A = normalizeBf16(kaimingBf16(generator, r * minDim, minDim));
    // One [maxDim, 1, r] draw per basis, concatenated along the basis axis.
    const draws = Array.from({ length: bases }, () => kaimingBf16(generator, maxDim * r, r));
    const cat = new Float32Array(maxDim * bases * r);
    for (let b = 0; b < bases; b++) {
      for (let i = 0; i < maxDim; i++) cat.set(draws[b]!.subarray(i * r, (i + 1) * r), (i * bases + b) * r);
    }
    B = normalizeBf16(cat);
  }
  return { A: fromArray(A, [r, 1, minDim]), B: fromArray(B, [maxDim, bases, r]) };
}
