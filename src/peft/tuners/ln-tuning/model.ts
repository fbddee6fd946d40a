// LNTuningModel (PEFT's ln_tuning/model.py): wraps the targeted modules — by default the model type's norm layers —
// in LN tuning layers that hold a trainable copy per adapter.
import type { Module } from '../../../nn/module.js';
import { TargetModulesError } from '../../errors.js';
import { TRANSFORMERS_MODELS_TO_LNTUNING_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { BaseTuner, type TunerOptions } from '../base-tuner.js';
import { BaseTunerLayer } from '../base-tuner-layer.js';
import { LNTuningConfig } from './config.js';
import { LNTuningLayer, type TunedModule } from './layer.js';

export class LNTuningModel<M extends Module = Module> extends BaseTuner<LNTuningConfig, M> {
  protected readonly configClass = LNTuningConfig;
  /** Prefix of the LN tuning containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'ln_tuning_';

  constructor(model: M, config: LNTuningConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected override injectAdapter(adapterName: string): void {
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, TRANSFORMERS_MODELS_TO_LNTUNING_TARGET_MODULES_MAPPING, 'LN tuning');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof LNTuningLayer;
  }

  protected checkNewAdapterConfig(): void {}

  /**
   * PEFT copies whatever module it is pointed at; a copy here runs the module's one-input forward, which layers
   * (norms, Linear, Embedding) have and blocks with submodules do not.
   */
  protected checkTarget(_config: LNTuningConfig, target: Module, key: string): void {
    if (target instanceof LNTuningLayer) return;
    if (target instanceof BaseTunerLayer) throw new TargetModulesError(`target module '${key}' already holds a ${target.typeName}; LN tuning cannot wrap another method's adapter layer`);
    const children = [...target.namedChildren()];
    if (children.length > 0) {
      throw new TargetModulesError(`target module '${key}' is a ${target.typeName} with submodules (${children.map(([n]) => n).join(', ')}); LN tuning copies single layers such as LayerNorm or RMSNorm`);
    }
  }

  protected createAndReplace(config: LNTuningConfig, adapterName: string, target: Module, key: string): void {
    if (target instanceof LNTuningLayer) return target.updateLayer(adapterName, config);
    this.replaceModule(key, new LNTuningLayer(target as TunedModule, adapterName, config, key), adapterName);
  }
}
