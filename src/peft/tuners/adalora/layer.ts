// AdaLoRA's SVD-shaped layer (PEFT's adalora SVDLinear) on nn.Linear and GPT-2's Conv1D. Per adapter: `lora_A`
// [r, in] (right singular vectors), `lora_E` [r, 1] (singular values), `lora_B` [out, r] (left singular vectors),
// all ParameterDict entries, and `ranknum`, the rank the adapter was created with (a frozen parameter that adapter
// files leave out). The forward adds scaling / (ranknum + 1e-5) · B·(A ⊙ E)·x to the base output; the rank
// allocator prunes a triplet by zeroing its entry of E.
import { mul } from '../../../engine/ops/binary.js';
import { fromArray, randn, zeros } from '../../../engine/ops/creation.js';
import { linear } from '../../../engine/ops/linear.js';
import { noGrad } from '../../../engine/autograd.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ModuleDict, ParameterDict } from '../../../nn/containers.js';
import { Dropout } from '../../../nn/dropout.js';
import { Identity } from '../../../nn/identity.js';
import { Conv1D, Linear } from '../../../nn/linear.js';
import { AdapterError, MergeError } from '../../errors.js';
import { warn } from '../../utils/warnings.js';
import { allFinite, BaseTunerLayer, type MergeOptions, nonFiniteMergeWarning } from '../base-tuner-layer.js';
import { addLowRank, addProductInto, cloneTensor } from '../lora/low-rank.js';
import type { AdaLoraConfig } from './config.js';

/** The config fields a layer reads when an adapter is added. */
export type AdaLoraLayerConfig = Pick<AdaLoraConfig, 'loraDropout' | 'initLoraWeights' | 'inferenceMode'>;

export interface SVDUpdateOptions {
  /** The adapter's rank (init_r; the allocated rank when an adapter is resized). 0 is allowed. */
  r: number;
  loraAlpha: number;
  generator?: Generator;
}

/** What PEFT adds to ranknum before dividing by it. */
const RANKNUM_EPS = 1e-5;
/** Standard deviation of A and B at initialisation. */
const INIT_STD = 0.02;

export class SVDLinear extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['lora_A', 'lora_B', 'lora_E'] as const;
  override readonly unsavedContainerNames = ['ranknum'];
  readonly r = new Map<string, number>();
  readonly loraAlpha = new Map<string, number>();
  /** lora_alpha, or r when lora_alpha is 0 or less. */
  readonly scaling = new Map<string, number>();
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The base weight is stored [in, out] (Conv1D, fan_in_fan_out). */
  readonly fanInFanOut: boolean;

  constructor(base: Linear | Conv1D, adapterName: string, config: AdaLoraLayerConfig, options: SVDUpdateOptions & { key?: string }) {
    super(adapterName, options.key ?? '');
    this.registerModule('base_layer', base);
    this.registerModule('lora_dropout', new ModuleDict<Dropout | Identity>());
    this.registerModule('lora_A', new ParameterDict());
    this.registerModule('lora_B', new ParameterDict());
    this.registerModule('lora_E', new ParameterDict());
    this.registerModule('ranknum', new ParameterDict());
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.fanInFanOut = base instanceof Conv1D;
    this.updateLayer(adapterName, config, options);
  }

  get loraA(): ParameterDict {
    return this.child('lora_A');
  }

  get loraB(): ParameterDict {
    return this.child('lora_B');
  }

  get loraE(): ParameterDict {
    return this.child('lora_E');
  }

  get ranknum(): ParameterDict {
    return this.child('ranknum');
  }

  get loraDropout(): ModuleDict<Dropout | Identity> {
    return this.child('lora_dropout');
  }

  override hasAdapter(name: string): boolean {
    return this.r.has(name);
  }

  /** The adapter's A [r, in], E [r, 1] and B [out, r]. */
  factors(adapter: string): { A: Tensor; E: Tensor; B: Tensor } {
    const A = this.loraA.get(adapter);
    const E = this.loraE.get(adapter);
    const B = this.loraB.get(adapter);
    if (A === undefined || E === undefined || B === undefined) throw new AdapterError(`${this.label}: no adapter '${adapter}' (has ${this.availableAdapters().join(', ') || 'none'})`);
    return { A, E, B };
  }

  /**
   * Adds (or replaces) an adapter (PEFT's update_layer): A, E, B drawn from N(0, 1), then — for any truthy
   * init_lora_weights — E = 0 and A, B ~ N(0, 0.02²); ranknum = r. Trainable only when active.
   */
  updateLayer(adapterName: string, config: AdaLoraLayerConfig, options: SVDUpdateOptions): void {
    const { r, loraAlpha, generator } = options;
    if (!Number.isInteger(r) || r < 0) throw new AdapterError(`${this.label}: r must be an integer of 0 or more, got ${r}`);
    this.r.set(adapterName, r);
    this.loraAlpha.set(adapterName, loraAlpha);
    this.loraDropout.set(adapterName, config.loraDropout > 0 ? new Dropout(config.loraDropout) : new Identity());
    const A = this.loraA.set(adapterName, randn([r, this.inFeatures], { generator }));
    const E = this.loraE.set(adapterName, randn([r, 1], { generator }));
    const B = this.loraB.set(adapterName, randn([this.outFeatures, r], { generator }));
    this.ranknum.set(adapterName, fromArray([r], [1])).requiresGrad = false;
    this.scaling.set(adapterName, loraAlpha > 0 ? loraAlpha : r);
    if (config.initLoraWeights !== false) {
      E.data().fill(0);
      for (const t of [A, B]) {
        const g = randn(t.shape, { std: INIT_STD, generator });
        t.data().set(g.data());
        g.dispose();
      }
    }
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    for (const m of [this.r, this.loraAlpha, this.scaling]) m.delete(name);
    this.loraDropout.delete(name);
    this.ranknum.delete(name);
  }

  /** scaling / (ranknum + 1e-5), the factor of B·(A ⊙ E). */
  private factor(adapter: string): number {
    const ranknum = this.ranknum.get(adapter)!.data()[0]!;
    return this.scaling.get(adapter)! / Math.fround(ranknum + RANKNUM_EPS);
  }

  /** A ⊙ E, without a graph. */
  private scaledA(adapter: string): Tensor {
    const { A, E } = this.factors(adapter);
    return noGrad(() => mul(A, E));
  }

  /** The adapter's weight change in the base weight's layout ([out, in], or [in, out] for Conv1D). */
  getDeltaWeight(adapter: string): Tensor {
    const base = this.getBaseLayer() as Linear | Conv1D;
    const delta = zeros(base.weight.shape);
    if (this.r.get(adapter)! > 0) this.addDelta(delta, adapter, 1);
    return delta;
  }

  private addDelta(W: Tensor, adapter: string, sign: 1 | -1): void {
    const AE = this.scaledA(adapter);
    addProductInto(W, AE, this.factors(adapter).B, sign * this.factor(adapter), this.fanInFanOut);
    AE.dispose();
  }

  merge(options: MergeOptions = {}): void {
    for (const adapter of this.adaptersToMerge(options.adapterNames)) {
      if (!this.hasAdapter(adapter)) continue;
      const { weight } = this.getBaseLayer() as Linear | Conv1D;
      if (weight.dtype !== 'float32') throw new MergeError(this.label, adapter, `the base weight is ${weight.dtype}; merging needs float32`);
      const empty = this.r.get(adapter) === 0;
      if (options.safeMerge ?? false) {
        const copy = cloneTensor(weight);
        if (!empty) this.addDelta(copy, adapter, 1);
        const finite = allFinite(copy.data());
        if (finite) weight.data().set(copy.data());
        copy.dispose();
        if (!finite) throw new MergeError(this.label, adapter, 'the merged weights hold NaN or infinite values; the adapter seems to be broken');
      } else {
        if (!empty) this.addDelta(weight, adapter, 1);
        if (!allFinite(weight.data())) warn(nonFiniteMergeWarning(this.label, adapter));
      }
      this.mergedAdapters.push(adapter);
    }
  }

  protected unmergeAdapter(adapter: string): void {
    if (this.hasAdapter(adapter) && this.r.get(adapter)! > 0) this.addDelta((this.getBaseLayer() as Linear | Conv1D).weight, adapter, -1);
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'AdaLoRA');
    if (inactive !== null) return inactive;
    let y = this.child<Linear | Conv1D>('base_layer').forward(x);
    for (const adapter of this.activeAdapters) {
      // A rank-0 adapter (every triplet pruned) adds nothing.
      if (!this.hasAdapter(adapter) || this.r.get(adapter) === 0) continue;
      const { A, E, B } = this.factors(adapter);
      const h = linear(this.loraDropout.get(adapter)!.forward(x), mul(A, E));
      y = addLowRank(y, h, B, this.factor(adapter));
    }
    return y;
  }
}
