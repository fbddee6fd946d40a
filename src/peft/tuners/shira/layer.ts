// SHiRA layers (PEFT's shira/layer.py) on nn.Linear: y = x · (W + Σ ΔW)ᵀ + b, where ΔW [out, in] is zero except for
// `shira_weight.<adapter>` [r · (in + out)] at the positions `shira_indices.<adapter>` (int32 [2, n]: rows, columns)
// holds. Both are saved; the indices come from the mask when the adapter is added and from the file when it is loaded.
// Merging adds ΔW to the base weight, unmerging subtracts it.
import { noGrad } from '../../../engine/autograd.js';
import { add } from '../../../engine/ops/binary.js';
import { fromArray, randn, zeros } from '../../../engine/ops/creation.js';
import { indexSelect } from '../../../engine/ops/indexing.js';
import { concat } from '../../../engine/ops/join.js';
import { linear } from '../../../engine/ops/linear.js';
import { reshape } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { BufferDict, ParameterDict } from '../../../nn/containers.js';
import type { Linear } from '../../../nn/linear.js';
import { AdapterError } from '../../errors.js';
import { DeltaWeightLayer } from '../delta-weight-layer.js';
import type { ShiraConfig } from './config.js';
import { randomMaskIndices } from './mask.js';

/** The config fields a layer reads when an adapter is added. */
export type ShiraLayerConfig = Pick<ShiraConfig, 'r' | 'randomSeed' | 'initWeights' | 'inferenceMode'>;

export class ShiraLayer extends DeltaWeightLayer {
  protected readonly adapterLayerNames = ['shira_weight'] as const;

  constructor(base: Linear, adapterName: string, config: ShiraLayerConfig, options: { key?: string; generator?: Generator } = {}) {
    super(base, adapterName, options.key ?? '');
    this.registerModule('shira_weight', new ParameterDict());
    this.registerModule('shira_indices', new BufferDict());
    this.updateLayer(adapterName, config, options.generator);
  }

  get shiraWeight(): ParameterDict {
    return this.child('shira_weight');
  }

  get shiraIndices(): BufferDict {
    return this.child('shira_indices');
  }

  override hasAdapter(name: string): boolean {
    return this.shiraWeight.has(name);
  }

  /** Adds an adapter (PEFT's update_layer): its mask from random_seed, its weights zero, or N(0, 1) without init_weights. */
  updateLayer(adapterName: string, config: ShiraLayerConfig, generator?: Generator): void {
    const { r } = config;
    if (!Number.isInteger(r) || r <= 0) throw new AdapterError(`${this.label}: r must be a positive integer, got ${r}`);
    const count = r * (this.inFeatures + this.outFeatures);
    const size = this.inFeatures * this.outFeatures;
    if (count > size) {
      throw new AdapterError(`${this.label}: r = ${r} gives r · (in + out) = ${count} SHiRA weights, more than the layer's ${this.outFeatures} · ${this.inFeatures} = ${size}`);
    }
    this.shiraIndices.set(adapterName, randomMaskIndices(this.outFeatures, this.inFeatures, r, config.randomSeed));
    const weight = this.shiraWeight.set(adapterName, randn([count], { generator }));
    if (config.initWeights) weight.data().fill(0);
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    this.shiraIndices.delete(name);
  }

  /** Where each flat [out, in] entry takes its value from: 1 + its weight's index, or 0 (a zero) off the mask. */
  private sourceOfEntries(adapter: string, count: number): Tensor {
    const indices = this.shiraIndices.get(adapter);
    if (indices === undefined) throw new AdapterError(`${this.label}: adapter '${adapter}' has no shira_indices`);
    if (indices.dtype !== 'int32' || indices.shape.length !== 2 || indices.shape[0] !== 2 || indices.shape[1] !== count) {
      throw new AdapterError(`${this.label}: shira_indices of adapter '${adapter}' must be int32 [2, ${count}] like its shira_weight, got ${indices.dtype} [${indices.shape.join(', ')}]`);
    }
    const ix = indices.data();
    const source = new Int32Array(this.outFeatures * this.inFeatures);
    for (let i = 0; i < count; i++) {
      const row = ix[i]!;
      const col = ix[count + i]!;
      if (row < 0 || row >= this.outFeatures || col < 0 || col >= this.inFeatures) {
        throw new AdapterError(`${this.label}: shira_indices of adapter '${adapter}' has position (${row}, ${col}) outside the [${this.outFeatures}, ${this.inFeatures}] weight`);
      }
      const at = row * this.inFeatures + col;
      if (source[at] !== 0) throw new AdapterError(`${this.label}: shira_indices of adapter '${adapter}' repeats position (${row}, ${col})`);
      source[at] = i + 1;
    }
    return fromArray(source, [source.length], 'int32');
  }

  /** ΔW [out, in], differentiable in the adapter's weights. */
  private delta(adapter: string): Tensor {
    const weight = this.shiraWeight.get(adapter)!;
    const padded = concat([zeros([1]), weight]);
    return reshape(indexSelect(padded, 0, this.sourceOfEntries(adapter, weight.size)), [this.outFeatures, this.inFeatures]);
  }

  getDeltaWeight(adapter: string): Tensor {
    return noGrad(() => this.delta(adapter));
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'SHiRA');
    if (inactive !== null) return inactive;
    const base = this.base as Linear;
    let weight = base.weight;
    for (const adapter of this.activeAdapters) if (this.hasAdapter(adapter)) weight = add(weight, this.delta(adapter));
    return linear(x, weight, base.bias);
  }
}
