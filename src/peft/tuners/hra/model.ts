// HRAModel (PEFT's hra/model.py): injects HRA layers into the targeted Linear modules (LoRA's default targets per
// model type).
import { Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { checkSingleBiasAdapter } from '../lora/model.js';
import { HRAConfig } from './config.js';
import { HRALayer } from './layer.js';

export class HRAModel<M extends Module = Module> extends BaseTuner<HRAConfig, M> {
  protected readonly configClass = HRAConfig;
  /** Prefix of the HRA parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'hra_';

  constructor(model: M, config: HRAConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof HRALayer;
  }

  protected checkNewAdapterConfig(): void {
    checkSingleBiasAdapter(this.peftConfig.values());
  }

  protected checkTarget(_config: HRAConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear], 'HRA supports Linear layers (PEFT also Conv2d, which these models do not use)');
  }

  protected createAndReplace(config: HRAConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof HRALayer) return target.updateLayer(adapterName, config, generator);
    this.replaceModule(key, new HRALayer(target as Linear, adapterName, config, { key, generator }), adapterName);
  }
}
