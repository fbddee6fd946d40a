// FourierFT's two computations: where a layer's spectral coefficients sit (drawn, as PEFT draws them, from torch's
// CPU generator) and the weight change they make, Re(ifft2(dense spectrum)) · scaling with ifft2's default
// 1 / (out · in) normalisation.
import { add, mul } from '../../../engine/ops/binary.js';
import { fromArray } from '../../../engine/ops/creation.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { unsqueeze } from '../../../engine/ops/view.js';
import type { Tensor } from '../../../engine/tensor.js';
import { TorchCpuGenerator } from '../../../engine/torch-cpu-random.js';

/** Row and column of each coefficient in the [out, in] spectrum. */
export interface SpectralPositions {
  rows: Int32Array;
  cols: Int32Array;
}

/** PEFT's indices: the first `count` entries of randperm(out · in) from `seed`, as (entry // in, entry % in). */
export function spectralPositions(seed: number, outFeatures: number, inFeatures: number, count: number): SpectralPositions {
  const flat = new TorchCpuGenerator(seed).randperm(outFeatures * inFeatures, count);
  const rows = new Int32Array(count);
  const cols = new Int32Array(count);
  for (let f = 0; f < count; f++) {
    rows[f] = Math.floor(flat[f]! / inFeatures);
    cols[f] = flat[f]! % inFeatures;
  }
  return { rows, cols };
}

/** cos and sin of 2π t / size for t < size, by size: the DFT's twiddle factors, shared by every layer of that size. */
const twiddles = new Map<number, { cos: Float64Array; sin: Float64Array }>();

function twiddlesFor(size: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddles.get(size);
  if (t === undefined) {
    const cos = new Float64Array(size);
    const sin = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      cos[i] = Math.cos((2 * Math.PI * i) / size);
      sin[i] = Math.sin((2 * Math.PI * i) / size);
    }
    t = { cos, sin };
    twiddles.set(size, t);
  }
  return t;
}

/**
 * The waves of the coefficients along one axis of length `size`: for coefficient f at frequency k_f and position x,
 * cos and `sinSign` · sin of 2π k_f x / size, laid out [size, n] (`positionsFirst`) or [n, size].
 */
function waves(frequencies: Int32Array, size: number, positionsFirst: boolean, sinSign: 1 | -1): { cos: Tensor; sin: Tensor } {
  const n = frequencies.length;
  const table = twiddlesFor(size);
  const cos = new Float32Array(n * size);
  const sin = new Float32Array(n * size);
  for (let f = 0; f < n; f++) {
    const k = frequencies[f]!;
    for (let x = 0; x < size; x++) {
      // k · x stays far below 2^53, so the angle is reduced exactly before the table lookup.
      const t = (k * x) % size;
      const at = positionsFirst ? x * n + f : f * size + x;
      cos[at] = table.cos[t]!;
      sin[at] = sinSign * table.sin[t]!;
    }
  }
  const shape = positionsFirst ? [size, n] : [n, size];
  return { cos: fromArray(cos, shape), sin: fromArray(sin, shape) };
}

/**
 * ΔW [out, in] = scaling / (out · in) · Σ_f s_f · cos(2π (r_f p / out + c_f q / in)), the real part of the inverse
 * 2-D DFT of a spectrum holding `spectrum` [n] at `positions`. Written as cos·cos − sin·sin, it is two rank-n
 * products of exact wave tables, linear in the spectrum, so gradients reach it through the same products.
 */
export function inverseDftDelta(spectrum: Tensor, positions: SpectralPositions, outFeatures: number, inFeatures: number, scaling: number): Tensor {
  const rowWaves = waves(positions.rows, outFeatures, true, -1);
  const colWaves = waves(positions.cols, inFeatures, false, 1);
  const weights = unsqueeze(mul(spectrum, scaling / (outFeatures * inFeatures)), 1);
  return add(matmul(rowWaves.cos, mul(colWaves.cos, weights)), matmul(rowWaves.sin, mul(colWaves.sin, weights)));
}
