// BOFTModel (PEFT's boft/model.py): injects BOFT layers into the targeted Linear modules (LoRA's default targets per
// model type). Every target's input size is checked against the block size or count before any layer changes.
import { Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { warn } from '../../utils/warnings.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { checkSingleBiasAdapter } from '../lora/model.js';
import { BOFTConfig } from './config.js';
import { boftBlockShape, BOFTLayer } from './layer.js';

export class BOFTModel<M extends Module = Module> extends BaseTuner<BOFTConfig, M> {
  protected readonly configClass = BOFTConfig;
  /** Prefix of the BOFT parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'boft_';

  constructor(model: M, config: BOFTConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof BOFTLayer;
  }

  protected checkNewAdapterConfig(config: BOFTConfig): void {
    checkSingleBiasAdapter(this.peftConfig.values());
    if (config.boftNButterflyFactor !== 1) {
      warn(
        `boft_n_butterfly_factor is ${config.boftNButterflyFactor}, but BOFT layers compute a single butterfly factor (block-diagonal ` +
          'rotations), as PEFT does without its CUDA extension; the adapter is saved with the value given.',
      );
    }
  }

  protected checkTarget(config: BOFTConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear], 'BOFT supports Linear layers (PEFT also Conv2d, which these models do not use)');
    const base = (target instanceof BaseTunerLayer ? target.getBaseLayer() : target) as Linear;
    boftBlockShape(base.inFeatures, config, key);
  }

  protected createAndReplace(config: BOFTConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof BOFTLayer) return target.updateLayer(adapterName, config, generator);
    matchFanInFanOut(target as Linear, config, key);
    this.replaceModule(key, new BOFTLayer(target as Linear, adapterName, config, { key, generator }), adapterName);
  }
}
