// OFT layers (PEFT's oft/layer.py) on nn.Linear: per adapter an OFTRotation `oft_R.<adapter>` whose orthogonal
// blocks rotate the layer's input before the base layer runs, y = base(x·R) with R = blockdiag(R₀, R₁, …); several
// active adapters rotate one after the other. Merging turns the weight W [out, in] into W·Rᵀ; unmerging multiplies
// by the inverse blocks again (not exact for Cayley-Neumann rotations, which are only nearly orthogonal). PEFT also
// adapts Conv2d and Embedding layers; our models have no Conv2d, and like PEFT we refuse GPT-2's Conv1D.
import { noGrad } from '../../../engine/autograd.js';
import { fromArray } from '../../../engine/ops/creation.js';
import { inverse } from '../../../engine/ops/inverse.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ModuleDict } from '../../../nn/containers.js';
import type { Linear } from '../../../nn/linear.js';
import { warn } from '../../utils/warnings.js';
import { BaseTunerLayer, type MergeOptions } from '../base-tuner-layer.js';
import type { OFTConfig } from './config.js';
import { OFTRotation, type RotationConfig } from './rotation.js';

/** The config fields a layer reads when an adapter is added. */
export type OFTLayerConfig = RotationConfig & Pick<OFTConfig, 'r' | 'oftBlockSize' | 'inferenceMode'>;

/**
 * PEFT's adjust_oft_parameters: the divisor of `inFeatures` nearest to `value` (the lower one on a tie), or
 * inFeatures itself when value is not below it.
 */
export function adjustOftParameters(inFeatures: number, value: number): number {
  if (value >= inFeatures) return inFeatures;
  let higher = value;
  while (higher <= inFeatures && inFeatures % higher !== 0) higher++;
  let lower = value;
  while (lower > 1 && inFeatures % lower !== 0) lower--;
  return value - lower <= higher - value ? lower : higher;
}

/** W [out, in] ← W·Bᵀ for the block-diagonal B of `blocks` [blocks, n, n] (in = blocks · n), in place. */
export function multiplyByBlocksTransposed(w: Float32Array, inFeatures: number, blocks: Float32Array, n: number): void {
  const row = new Float64Array(inFeatures);
  for (let o = 0; o < w.length / inFeatures; o++) {
    const base = o * inFeatures;
    for (let b = 0; b < inFeatures / n; b++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += w[base + b * n + j]! * blocks[(b * n + i) * n + j]!;
        row[b * n + i] = s;
      }
    }
    for (let k = 0; k < inFeatures; k++) w[base + k] = row[k]!;
  }
}

export class OFTLayer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['oft_R'] as const;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(base: Linear, adapterName: string, config: OFTLayerConfig, options: { key?: string; generator?: Generator } = {}) {
    super(adapterName, options.key ?? '');
    this.registerModule('base_layer', base);
    this.registerModule('oft_R', new ModuleDict<OFTRotation>());
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.updateLayer(adapterName, config, options.generator);
  }

  get oftR(): ModuleDict<OFTRotation> {
    return this.child('oft_R');
  }

  override hasAdapter(name: string): boolean {
    return this.oftR.has(name);
  }

  /** The number of blocks and their size for this layer: PEFT's update_layer, adjusting (with a warning) what does not divide in_features. */
  private blockShape(config: Pick<OFTConfig, 'r' | 'oftBlockSize'>): { blocks: number; blockSize: number } {
    const d = this.inFeatures;
    const [name, given] = config.r === 0 ? ['oft_block_size', config.oftBlockSize] : ['r', config.r];
    let value = given;
    if (d % value !== 0 || value > d) {
      value = adjustOftParameters(d, value);
      warn(`${this.label}: ${name} ${given} does not divide the layer's ${d} input features; adjusted ${name} to ${value}.`);
    }
    return config.r === 0 ? { blocks: d / value, blockSize: value } : { blocks: value, blockSize: d / value };
  }

  /** Adds an adapter (PEFT's update_layer): weights at zero (identity rotations) with init_weights, else N(0, 0.1²). */
  updateLayer(adapterName: string, config: OFTLayerConfig, generator?: Generator): void {
    const { blocks, blockSize } = this.blockShape(config);
    this.oftR.set(adapterName, new OFTRotation(blocks, blockSize, config, generator));
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(): void {}

  private get base(): Linear {
    return this.getBaseLayer() as Linear;
  }

  merge(options: MergeOptions = {}): void {
    this.mergeIntoWeight(this.base.weight, options, (adapter, w) => {
      const rotation = this.oftR.get(adapter)!;
      multiplyByBlocksTransposed(w, this.inFeatures, rotation.blockMatrices(), rotation.blockSize);
    });
  }

  protected unmergeAdapter(adapter: string): void {
    const rotation = this.oftR.get(adapter);
    if (rotation === undefined) return;
    const n = rotation.blockSize;
    const blocks = rotation.blockMatrices();
    const inverted = noGrad(() => inverse(fromArray(blocks, [blocks.length / (n * n), n, n])));
    multiplyByBlocksTransposed(this.base.weight.data() as Float32Array, this.inFeatures, inverted.data() as Float32Array, n);
    inverted.dispose();
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'OFT');
    if (inactive !== null) return inactive;
    let rotated = x;
    for (const adapter of this.activeAdapters) {
      const rotation = this.oftR.get(adapter);
      if (rotation !== undefined) rotated = rotation.forward(rotated);
    }
    return this.child<Linear>('base_layer').forward(rotated);
  }
}
