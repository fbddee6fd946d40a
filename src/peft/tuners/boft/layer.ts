// BOFT layers (PEFT's boft/layer.py, on its CPU path) on nn.Linear: per adapter `boft_R.<adapter>` [1, blocks, n, n],
// whose skew-symmetric parts ½(R - Rᵀ) give orthogonal blocks by the Cayley transform, and `boft_s.<adapter>` [out, 1].
// y = s ⊙ (base(x·M) - b) + b with M = blockdiag(R₀, R₁, …) and b the base bias. Several active adapters compose as
// PEFT composes them: M = M_last ⋯ M_first (the last active adapter rotates the input first) and s = Π s.
// PEFT's CUDA extension would multiply several butterfly factors, each M conjugated by a butterfly permutation
// (boft_P, a buffer it leaves out of the state dict); without it PEFT computes one factor, whose permutation is the
// identity, and so do we. Merging turns W [out, in] into s ⊙ (W·Mᵀ); unmerging multiplies by M and divides by s.
import { noGrad } from '../../../engine/autograd.js';
import { add, mul, sub } from '../../../engine/ops/binary.js';
import { ones, randn, zeros } from '../../../engine/ops/creation.js';
import { contiguous, reshape, transpose } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ModuleDict, ParameterDict } from '../../../nn/containers.js';
import { Identity } from '../../../nn/identity.js';
import type { Linear } from '../../../nn/linear.js';
import { ConfigError } from '../../errors.js';
import { BaseTunerLayer, type MergeOptions } from '../base-tuner-layer.js';
import { multiplyByBlocksTransposed } from '../oft/layer.js';
import { cayley, rotateBlocks } from '../oft/rotation.js';
import type { BOFTConfig } from './config.js';
import { MultiplicativeDropout } from './dropout.js';

/** The config fields a layer reads when an adapter is added. */
export type BOFTLayerConfig = Pick<BOFTConfig, 'boftBlockSize' | 'boftBlockNum' | 'boftDropout' | 'initWeights' | 'inferenceMode'>;

/** The number of blocks and their size for a layer of `inFeatures` inputs (`label` in the error when neither divides it). */
export function boftBlockShape(inFeatures: number, config: Pick<BOFTConfig, 'boftBlockSize' | 'boftBlockNum'>, label: string): { blocks: number; blockSize: number } {
  const bySize = config.boftBlockSize !== 0;
  const [key, given] = bySize ? ['boft_block_size', config.boftBlockSize] : ['boft_block_num', config.boftBlockNum];
  if (inFeatures % given !== 0) throw new ConfigError(key, `(${given}) must divide the in_features (${inFeatures}) of ${label}`);
  return bySize ? { blocks: inFeatures / given, blockSize: given } : { blocks: given, blockSize: inFeatures / given };
}

/** Every value of row o of w [out, in] times factor(o), in place. */
function scaleRows(w: Float32Array, inFeatures: number, factor: (o: number) => number): void {
  for (let o = 0; o < w.length / inFeatures; o++) {
    const f = factor(o);
    for (let k = o * inFeatures; k < (o + 1) * inFeatures; k++) w[k] = w[k]! * f;
  }
}

export class BOFTLayer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['boft_R', 'boft_s'] as const;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(base: Linear, adapterName: string, config: BOFTLayerConfig, options: { key?: string; generator?: Generator } = {}) {
    super(adapterName, options.key ?? '');
    this.registerModule('base_layer', base);
    this.registerModule('boft_dropout', new ModuleDict<MultiplicativeDropout | Identity>());
    this.registerModule('boft_R', new ParameterDict());
    this.registerModule('boft_s', new ParameterDict());
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.updateLayer(adapterName, config, options.generator);
  }

  get boftDropout(): ModuleDict<MultiplicativeDropout | Identity> {
    return this.child('boft_dropout');
  }

  get boftR(): ParameterDict {
    return this.child('boft_R');
  }

  get boftS(): ParameterDict {
    return this.child('boft_s');
  }

  override hasAdapter(name: string): boolean {
    return this.boftR.has(name);
  }

  /** Adds an adapter (PEFT's update_layer): R = 0 and s = 1 (the identity) with init_weights, else N(0, 0.1²) and N(1, 0.1²). */
  updateLayer(adapterName: string, config: BOFTLayerConfig, generator?: Generator): void {
    const { blocks, blockSize } = boftBlockShape(this.inFeatures, config, this.label);
    this.boftDropout.set(adapterName, config.boftDropout > 0 ? new MultiplicativeDropout(config.boftDropout) : new Identity());
    const shape = [1, blocks, blockSize, blockSize];
    this.boftR.set(adapterName, config.initWeights ? zeros(shape) : randn(shape, { generator, std: 0.1 }));
    this.boftS.set(adapterName, config.initWeights ? ones([this.outFeatures, 1]) : randn([this.outFeatures, 1], { generator, mean: 1, std: 0.1 }));
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(): void {}

  private get base(): Linear {
    return this.getBaseLayer() as Linear;
  }

  /** The adapter's orthogonal blocks [blocks, n, n]: the Cayley transforms of the skew-symmetric parts of boft_R (PEFT's cayley_batch). */
  private rotationBlocks(adapter: string): Tensor {
    const r = this.boftR.get(adapter)!;
    const [, blocks, n] = r.shape as [number, number, number, number];
    const flat = reshape(r, [blocks, n, n]);
    return cayley(mul(sub(flat, transpose(flat, 1, 2)), 0.5));
  }

  /** The adapter's blocks as merging reads them, transposed for unmerging. */
  private blockValues(adapter: string, transposed: boolean): Float32Array {
    return noGrad(() => {
      const blocks = this.rotationBlocks(adapter);
      return (transposed ? contiguous(transpose(blocks, 1, 2)) : blocks).toArray() as Float32Array;
    });
  }

  private blockSize(adapter: string): number {
    return this.boftR.get(adapter)!.shape[2]!;
  }

  merge(options: MergeOptions = {}): void {
    this.mergeIntoWeight(this.base.weight, options, (adapter, w) => {
      const s = this.boftS.get(adapter)!.data();
      multiplyByBlocksTransposed(w, this.inFeatures, this.blockValues(adapter, false), this.blockSize(adapter));
      scaleRows(w, this.inFeatures, (o) => s[o]!);
    });
  }

  protected unmergeAdapter(adapter: string): void {
    if (!this.hasAdapter(adapter)) return;
    const w = this.base.weight.data() as Float32Array;
    const s = this.boftS.get(adapter)!.data();
    multiplyByBlocksTransposed(w, this.inFeatures, this.blockValues(adapter, true), this.blockSize(adapter));
    scaleRows(w, this.inFeatures, (o) => Math.fround(1 / s[o]!));
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'BOFT');
    if (inactive !== null) return inactive;
    const adapters = this.activeAdapters.filter((a) => this.hasAdapter(a));
    const baseLayer = this.child<Linear>('base_layer');
    if (adapters.length === 0) return baseLayer.forward(x);
    let rotated = x;
    for (const adapter of [...adapters].reverse()) rotated = rotateBlocks(rotated, this.boftDropout.get(adapter)!.forward(this.rotationBlocks(adapter)));
    let scale = reshape(this.boftS.get(adapters[0]!)!, [this.outFeatures]);
    for (const adapter of adapters.slice(1)) scale = mul(reshape(this.boftS.get(adapter)!, [this.outFeatures]), scale);
    const bias = this.base.bias;
    const y = baseLayer.forward(rotated);
    return bias === null ? mul(y, scale) : add(mul(sub(y, bias), scale), bias);
  }
}
