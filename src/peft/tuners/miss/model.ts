// MissModel (PEFT's miss/model.py): injects MiSS layers into the targeted Linear modules (LoRA's default targets per
// model type).
import { Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { checkSingleBiasAdapter } from '../lora/model.js';
import { MissConfig } from './config.js';
import { MissLayer } from './layer.js';

export class MissModel<M extends Module = Module> extends BaseTuner<MissConfig, M> {
  protected readonly configClass = MissConfig;
  /** Prefix of the MiSS parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'miss_';

  constructor(model: M, config: MissConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof MissLayer;
  }

  protected checkNewAdapterConfig(): void {
    checkSingleBiasAdapter(this.peftConfig.values());
  }

  protected checkTarget(_config: MissConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear], 'MiSS supports Linear layers, as in PEFT');
  }

  protected createAndReplace(config: MissConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof MissLayer) return target.updateLayer(adapterName, config, generator);
    this.replaceModule(key, new MissLayer(target as Linear, adapterName, config, { key, generator }), adapterName);
  }
}
