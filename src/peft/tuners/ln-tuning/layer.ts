// LN tuning layers (PEFT's ln_tuning/layer.py): per adapter a trainable deep copy of the wrapped module (normally a
// LayerNorm or RMSNorm), `ln_tuning_layers.<adapter>`, that runs in its place. One adapter is active at a time.
// Merging swaps the copy in as `base_layer` (the original waits in the copy's slot), unmerging swaps them back.
import type { Tensor } from '../../../engine/tensor.js';
import { ModuleDict } from '../../../nn/containers.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError, MergeError } from '../../errors.js';
import { warn } from '../../utils/warnings.js';
import { BaseTunerLayer, type MergeOptions } from '../base-tuner-layer.js';
import type { LNTuningConfig } from './config.js';

/** A module LN tuning can wrap: one input, one output. */
export type TunedModule = Module & { forward(x: Tensor): Tensor };

/** The config fields a layer reads when an adapter is added. */
export type LNTuningLayerConfig = Pick<LNTuningConfig, 'inferenceMode'>;

export class LNTuningLayer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['ln_tuning_layers'] as const;

  constructor(base: TunedModule, adapterName: string, config: LNTuningLayerConfig, key = '') {
    super(adapterName, key);
    this.registerModule('base_layer', base);
    this.registerModule('ln_tuning_layers', new ModuleDict());
    this.updateLayer(adapterName, config);
  }

  get lnTuningLayers(): ModuleDict<TunedModule> {
    return this.child<ModuleDict<TunedModule>>('ln_tuning_layers');
  }

  /** Adds an adapter (PEFT's update_layer): a copy of the current `base_layer`, made the active adapter. */
  updateLayer(adapterName: string, config: LNTuningLayerConfig): void {
    this.lnTuningLayers.set(adapterName, this.child<TunedModule>('base_layer').clone());
    this.setAdapter(adapterName, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(): void {}

  /** Disabling also unmerges, as PEFT's enable_adapters does. */
  override enableAdapters(enabled: boolean): void {
    if (!enabled && this.merged) this.unmerge();
    super.enableAdapters(enabled);
  }

  /** Swaps the copy of `adapter` and `base_layer`. */
  private swap(adapter: string): void {
    const copy = this.lnTuningLayers.get(adapter)!;
    this.lnTuningLayers.set(adapter, this.child<TunedModule>('base_layer'));
    this.registerModule('base_layer', copy);
  }

  /** Puts one adapter's copy in place of the base module (safeMerge changes nothing: no values are computed). */
  merge(options: MergeOptions = {}): void {
    const adapters = this.adaptersToMerge(options.adapterNames).filter((a) => this.lnTuningLayers.has(a));
    if (adapters.length === 0) return;
    if (adapters.length > 1) {
      throw new MergeError(this.label, adapters.join(', '), `merging ${adapters.length} adapters at once; LN tuning merges one adapter at a time`);
    }
    if (this.merged) {
      warn(`${this.label}: already merged with ${this.mergedAdapters.join(', ')}; unmerging first.`);
      this.unmerge();
    }
    this.swap(adapters[0]!);
    this.mergedAdapters.push(adapters[0]!);
  }

  protected unmergeAdapter(adapter: string): void {
    this.swap(adapter);
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'LN tuning');
    if (inactive !== null) return inactive;
    const active = this.activeAdapters;
    if (active.length === 0) return this.child<TunedModule>('base_layer').forward(x);
    if (active.length > 1) {
      throw new AdapterError(`${this.label}: ${active.length} adapters are active (${active.join(', ')}); LN tuning runs one adapter at a time`);
    }
    const copy = this.lnTuningLayers.get(active[0]!);
    if (copy === undefined) return this.child<TunedModule>('base_layer').forward(x);
    return copy.forward(x);
  }
}
