// PEFT's OFTRotationModule: one adapter's trainable `weight` [blocks, n(n-1)/2] (one row per block, or a single row
// shared by all blocks), each row the upper triangle (row-major, above the diagonal) of a skew-symmetric n×n matrix
// Q, and the orthogonal blocks it stands for: the Cayley transform (I - Q)(I + Q)⁻¹, or its truncated Neumann series
// I + 2Q + 2Q² + … + 2Qᵏ⁻¹ + Qᵏ. The rotation applies to a layer's input, block by block: x·blockdiag(R₀, R₁, …).
import { noGrad } from '../../../engine/autograd.js';
import { add, mul, sub } from '../../../engine/ops/binary.js';
import { concat } from '../../../engine/ops/join.js';
import { fromArray, randn, zeros } from '../../../engine/ops/creation.js';
import { indexSelect } from '../../../engine/ops/indexing.js';
import { inverse } from '../../../engine/ops/inverse.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { reshape, transpose } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { Module } from '../../../nn/module.js';
import type { OFTConfig } from './config.js';

/** The config fields that shape a rotation. */
export type RotationConfig = Pick<OFTConfig, 'coft' | 'eps' | 'blockShare' | 'useCayleyNeumann' | 'numCayleyNeumannTerms' | 'initWeights'>;

/** Where each entry of a flattened n×n skew-symmetric matrix comes from in [0, ...upper triangle], and its sign. */
function skewLayout(n: number): { index: Tensor; sign: Tensor } {
  const index = new Int32Array(n * n);
  const sign = new Float32Array(n * n).fill(1);
  let k = 1;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) {
      index[i * n + j] = k;
      index[j * n + i] = k;
      sign[j * n + i] = -1;
    }
  }
  return { index: fromArray(index, [n * n], 'int32'), sign: fromArray(sign, [n * n]) };
}

export class OFTRotation extends Module {
  private readonly config: RotationConfig;

  constructor(
    /** Blocks of the layer's input (r). */
    readonly blocks: number,
    readonly blockSize: number,
    config: RotationConfig,
    generator?: Generator,
  ) {
    super();
    const { coft, eps, blockShare, useCayleyNeumann, numCayleyNeumannTerms, initWeights } = config;
    this.config = { coft, eps, blockShare, useCayleyNeumann, numCayleyNeumannTerms, initWeights };
    const rows = config.blockShare ? 1 : blocks;
    const weight = randn([rows, (blockSize * (blockSize - 1)) / 2], { generator, std: 0.1 });
    if (config.initWeights) weight.data().fill(0);
    this.registerParameter('weight', weight);
  }

  get weight(): Tensor {
    return this.parameter('weight')!;
  }

  /** The skew-symmetric matrices [rows, n, n] of the weight rows: upper triangle +w, lower -w. */
  private skew(): Tensor {
    const n = this.blockSize;
    const w = this.weight;
    const { index, sign } = skewLayout(n);
    const padded = concat([zeros([w.shape[0]!, 1]), w], 1);
    return reshape(mul(indexSelect(padded, 1, index), sign), [w.shape[0]!, n, n]);
  }

  /**
   * COFT (PEFT's _project_batch, applied to the weight in place): a block whose skew matrix has a Frobenius norm above
   * eps / √rows is scaled down onto that norm, in float32 as PEFT computes it.
   */
  private project(): void {
    const w = this.weight.data() as Float32Array;
    const rows = this.weight.shape[0]!;
    const width = this.weight.shape[1]!;
    const eps = Math.fround(Math.fround(this.config.eps) / Math.fround(Math.sqrt(rows)));
    for (let b = 0; b < rows; b++) {
      const row = w.subarray(b * width, (b + 1) * width);
      let sq = 0;
      for (const v of row) sq += 2 * v * v;
      const norm = Math.fround(Math.sqrt(sq));
      if (norm <= eps) continue;
      for (let k = 0; k < width; k++) row[k] = Math.fround(eps * Math.fround(row[k]! / norm));
    }
  }

  /** The orthogonal blocks [rows, n, n] (PEFT's _cayley_batch), after COFT's projection when coft is set. */
  rotation(): Tensor {
    if (this.config.coft) noGrad(() => this.project());
    const q = this.skew();
    if (!this.config.useCayleyNeumann) return cayley(q);
    const eye = identity(this.blockSize);
    const terms = this.config.numCayleyNeumannTerms;
    if (terms <= 1) return identity(this.blockSize, q.shape[0]!);
    let r = add(eye, mul(q, 2));
    if (terms === 2) return r;
    let power = matmul(q, q);
    r = add(r, mul(power, 2));
    for (let k = 3; k < terms - 1; k++) {
      power = matmul(power, q);
      r = add(r, mul(power, 2));
    }
    return add(r, matmul(power, q));
  }

  /** x [..., blocks · n] rotated block by block: each block of n inputs times its orthogonal matrix. */
  forward(x: Tensor): Tensor {
    const n = this.blockSize;
    const rot = this.rotation();
    if (!this.config.blockShare) return rotateBlocks(x, rot);
    const rows = x.size / (this.blocks * n);
    return reshape(matmul(reshape(x, [rows * this.blocks, n]), reshape(rot, [n, n])), x.shape);
  }

  /** The rotation of every block [blocks, n, n] as merging reads it (PEFT's get_weight, blocks shared where they are). */
  blockMatrices(): Float32Array {
    const rot = noGrad(() => this.rotation());
    const one = rot.toArray() as Float32Array;
    if (!this.config.blockShare) return one;
    const out = new Float32Array(this.blocks * one.length);
    for (let b = 0; b < this.blocks; b++) out.set(one, b * one.length);
    return out;
  }
}

/** The Cayley transform (I - Q)(I + Q)⁻¹ of skew-symmetric matrices q [..., n, n]: orthogonal matrices. */
export function cayley(q: Tensor): Tensor {
  const eye = identity(q.shape[q.shape.length - 1]!);
  return matmul(sub(eye, q), inverse(add(eye, q)));
}

/** x [..., blocks · n] times blockdiag(rot₀, rot₁, …) for `rot` [blocks, n, n]: each block of n inputs rotated by its matrix. */
export function rotateBlocks(x: Tensor, rot: Tensor): Tensor {
  const [blocks, n] = [rot.shape[0]!, rot.shape[1]!];
  const perBlock = transpose(reshape(x, [x.size / (blocks * n), blocks, n]), 0, 1);
  return reshape(transpose(matmul(perBlock, rot), 0, 1), x.shape);
}

/** The n×n identity, or `batch` of them. */
export function identity(n: number, batch?: number): Tensor {
  const t = zeros(batch === undefined ? [n, n] : [batch, n, n]);
  const d = t.data();
  for (let b = 0; b < (batch ?? 1); b++) for (let i = 0; i < n; i++) d[(b * n + i) * n + i] = 1;
  return t;
}
