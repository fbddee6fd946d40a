// MiSS layers (PEFT's miss/layer.py) on nn.Linear: per adapter one block `miss_block.<adapter>` (shards.ts), [r, out]
// (balance), [r, mini_r] (mini) or [out/r, r, r] (bat), and a dropout on the input. Balance and mini add
// (Σ shards of dropout(x))·B to the base output, several active adapters adding up; merging adds Bᵀ to every shard of
// the weight, unmerging subtracts it. Bat runs the input through the weight with each active block applied in turn
// (W₂ = bat(bat(W, B₁), B₂)); merging applies the block to the base weight, unmerging takes it out again through
// (I + B)⁻¹. As in PEFT, a layer keeps the variant of its first adapter; an adapter of another variant is refused.
// Like PEFT we refuse GPT-2's Conv1D.
import { noGrad } from '../../../engine/autograd.js';
import { add } from '../../../engine/ops/binary.js';
import { fromArray, zeros } from '../../../engine/ops/creation.js';
import { linear } from '../../../engine/ops/linear.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ModuleDict, ParameterDict } from '../../../nn/containers.js';
import { Dropout } from '../../../nn/dropout.js';
import { Identity } from '../../../nn/identity.js';
import type { Linear } from '../../../nn/linear.js';
import { AdapterError } from '../../errors.js';
import { BaseTunerLayer, type MergeOptions } from '../base-tuner-layer.js';
import { kaimingUniform } from '../lycoris-utils.js';
import type { MissConfig, MissInitWeights } from './config.js';
import { addSharedBlock, batWeight, batWeightRemoved, repeatAlongOutputs, sharedBlockUpdate } from './shards.js';

/** The config fields a layer reads when an adapter is added. */
export type MissLayerConfig = Pick<MissConfig, 'r' | 'miniR' | 'missDropout' | 'initWeights' | 'inferenceMode'>;

export type MissVariant = 'balance' | 'bat' | 'mini';

function variantOf(initWeights: MissInitWeights): MissVariant {
  return typeof initWeights === 'boolean' ? 'balance' : initWeights;
}

export class MissLayer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['miss_block'] as const;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The variant of the layer's first adapter, which PEFT's layer uses for all of them. */
  readonly variant: MissVariant;

  constructor(base: Linear, adapterName: string, config: MissLayerConfig, options: { key?: string; generator?: Generator } = {}) {
    super(adapterName, options.key ?? '');
    this.registerModule('base_layer', base);
    this.registerModule('miss_block', new ParameterDict());
    this.registerModule('miss_dropout', new ModuleDict<Dropout | Identity>());
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.variant = variantOf(config.initWeights);
    this.updateLayer(adapterName, config, options.generator);
  }

  get missBlock(): ParameterDict {
    return this.child<ParameterDict>('miss_block');
  }

  get missDropout(): ModuleDict<Dropout | Identity> {
    return this.child('miss_dropout');
  }

  override hasAdapter(name: string): boolean {
    return this.missBlock.has(name);
  }

  /** Adds an adapter (PEFT's update_layer): a zero block of the variant's shape, or a kaiming-uniform one with init_weights false. */
  updateLayer(adapterName: string, config: MissLayerConfig, generator?: Generator): void {
    const { r, miniR } = config;
    const variant = variantOf(config.initWeights);
    if (variant !== this.variant) {
      throw new AdapterError(`${this.label}: adapter '${adapterName}' is a MiSS "${variant}" adapter, but this layer's first adapter made it a "${this.variant}" layer; PEFT runs every adapter of a layer as its first one's variant`);
    }
    if (r > this.inFeatures) throw new AdapterError(`${this.label}: r (${r}) must be at most in_features (${this.inFeatures})`);
    let block: Tensor;
    if (variant === 'bat') {
      if (this.inFeatures % r !== 0 || this.outFeatures % r !== 0) {
        throw new AdapterError(`${this.label}: init_weights "bat" needs r (${r}) to divide in_features (${this.inFeatures}) and out_features (${this.outFeatures}) into r×r shards`);
      }
      block = zeros([this.outFeatures / r, r, r]);
    } else if (variant === 'mini') {
      if (this.outFeatures % miniR !== 0) throw new AdapterError(`${this.label}: init_weights "mini" needs mini_r (${miniR}) to divide out_features (${this.outFeatures})`);
      block = zeros([r, miniR]);
    } else {
      block = config.initWeights === false ? kaimingUniform([r, this.outFeatures], generator) : zeros([r, this.outFeatures]);
    }
    this.missBlock.set(adapterName, block);
    this.missDropout.set(adapterName, config.missDropout > 0 ? new Dropout(config.missDropout) : new Identity());
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    this.missDropout.delete(name);
  }

  private get base(): Linear {
    return this.getBaseLayer() as Linear;
  }

  /** The balance block, or the mini block repeated to [r, out]. */
  private sharedBlock(adapter: string): Tensor {
    const block = this.missBlock.get(adapter)!;
    return this.variant === 'mini' ? repeatAlongOutputs(block, this.outFeatures) : block;
  }

  /** Applies (or with `reverse` takes out) the adapter on the weight values `w` [out, in], in place. */
  private applyToWeight(adapter: string, w: Float32Array, reverse: boolean): void {
    noGrad(() => {
      if (this.variant !== 'bat') {
        const block = this.sharedBlock(adapter);
        addSharedBlock(w, block.data() as Float32Array, block.shape[0]!, this.outFeatures, reverse ? -1 : 1);
        return;
      }
      const weight = fromArray(w, [this.outFeatures, this.inFeatures]);
      const block = this.missBlock.get(adapter)!;
      const changed = reverse ? batWeightRemoved(weight, block) : batWeight(weight, block);
      w.set(changed.data());
      changed.dispose();
    });
  }

  merge(options: MergeOptions = {}): void {
    this.mergeIntoWeight(this.base.weight, options, (adapter, w) => this.applyToWeight(adapter, w, false));
  }

  protected unmergeAdapter(adapter: string): void {
    if (this.hasAdapter(adapter)) this.applyToWeight(adapter, this.base.weight.data() as Float32Array, true);
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'MiSS');
    if (inactive !== null) return inactive;
    const active = this.activeAdapters.filter((a) => this.hasAdapter(a));
    if (this.variant === 'bat') {
      const weight = active.reduce((w, a) => batWeight(w, this.missBlock.get(a)!), this.base.weight);
      return linear(x, weight, this.base.bias);
    }
    let result = this.child<Linear>('base_layer').forward(x);
    for (const adapter of active) {
      const dropped = this.missDropout.get(adapter)!.forward(x);
      result = add(result, sharedBlockUpdate(dropped, this.sharedBlock(adapter)));
    }
    return result;
  }
}
