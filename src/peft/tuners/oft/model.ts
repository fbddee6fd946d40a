// OFTModel (PEFT's oft/model.py): injects OFT layers into the targeted Linear modules (LoRA's default targets per
// model type), and refuses checkpoints of the OFT format PEFT used before 0.14.
import { Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterWeightsError } from '../../errors.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { checkSingleBiasAdapter } from '../lora/model.js';
import { OFTConfig } from './config.js';
import { OFTLayer } from './layer.js';

export class OFTModel<M extends Module = Module> extends BaseTuner<OFTConfig, M> {
  protected readonly configClass = OFTConfig;
  /** Prefix of the OFT parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'oft_';

  constructor(model: M, config: OFTConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof OFTLayer;
  }

  protected checkNewAdapterConfig(): void {
    checkSingleBiasAdapter(this.peftConfig.values());
  }

  protected checkTarget(_config: OFTConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear], 'OFT supports Linear layers (PEFT also Conv2d and Embedding, which these models do not use)');
  }

  protected createAndReplace(config: OFTConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof OFTLayer) return target.updateLayer(adapterName, config, generator);
    matchFanInFanOut(target as Linear, config, key);
    this.replaceModule(key, new OFTLayer(target as Linear, adapterName, config, { key, generator }), adapterName);
  }

  /** Keys `.oft_r.` belong to the OFT format of PEFT before 0.14 (PEFT's _remap_adapter_state_dict_for_load refuses them too). */
  override checkAdapterCheckpoint(_adapterName: string, keys: ReadonlySet<string>, file?: string): void {
    const old = [...keys].find((k) => k.includes('.oft_r.'));
    if (old !== undefined) {
      throw new AdapterWeightsError(file, old, 'is an OFT weight in the format of PEFT before 0.14, which is no longer supported; retrain the adapter with a newer PEFT');
    }
  }
}
