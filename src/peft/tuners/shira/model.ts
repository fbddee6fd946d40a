// ShiraModel (PEFT's shira/model.py): wraps the targeted Linear layers in ShiraLayers.
import { Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { TRANSFORMERS_MODELS_TO_SHIRA_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { ShiraConfig } from './config.js';
import { ShiraLayer } from './layer.js';

export class ShiraModel<M extends Module = Module> extends BaseTuner<ShiraConfig, M> {
  protected readonly configClass = ShiraConfig;
  /** Prefix of the SHiRA parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'shira_';

  constructor(model: M, config: ShiraConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected override injectAdapter(adapterName: string): void {
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, TRANSFORMERS_MODELS_TO_SHIRA_TARGET_MODULES_MAPPING, 'SHiRA');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof ShiraLayer;
  }

  protected checkNewAdapterConfig(): void {}

  protected checkTarget(_config: ShiraConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear], 'SHiRA supports Linear layers only');
  }

  protected createAndReplace(config: ShiraConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof ShiraLayer) return target.updateLayer(adapterName, config, generator);
    matchFanInFanOut(target as Linear, config, key);
    this.replaceModule(key, new ShiraLayer(target as Linear, adapterName, config, { key, generator }), adapterName);
  }
}
