// FourierFTModel (PEFT's fourierft/model.py): wraps the targeted Linear / Conv1D layers in FourierFTLayers, each with
// n_frequency coefficients (or the n_frequency_pattern entry that matches its key).
import { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { TRANSFORMERS_MODELS_TO_FOURIERFT_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { pyMatch } from '../../utils/python-regex.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { checkSingleBiasAdapter } from '../lora/model.js';
import { FourierFTConfig, nFrequencyPatternRegex } from './config.js';
import { FourierFTLayer } from './layer.js';

/** PEFT's choice: the first n_frequency_pattern key whose regex matches the module key, else the key itself, else n_frequency. */
export function nFrequencyFor(config: Pick<FourierFTConfig, 'nFrequency' | 'nFrequencyPattern'>, key: string): number {
  const pattern = config.nFrequencyPattern;
  const k = Object.keys(pattern).find((p) => pyMatch(nFrequencyPatternRegex(p), key) !== null) ?? key;
  return Object.hasOwn(pattern, k) ? pattern[k]! : config.nFrequency;
}

export class FourierFTModel<M extends Module = Module> extends BaseTuner<FourierFTConfig, M> {
  protected readonly configClass = FourierFTConfig;
  /** Prefix of the FourierFT parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'fourierft_';

  constructor(model: M, config: FourierFTConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected override injectAdapter(adapterName: string): void {
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, TRANSFORMERS_MODELS_TO_FOURIERFT_TARGET_MODULES_MAPPING, 'FourierFT');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof FourierFTLayer;
  }

  protected checkNewAdapterConfig(): void {
    checkSingleBiasAdapter(this.peftConfig.values());
  }

  protected checkTarget(_config: FourierFTConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear, Conv1D], 'FourierFT supports Linear and Conv1D layers');
  }

  protected createAndReplace(config: FourierFTConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    const nFrequency = nFrequencyFor(config, key);
    if (target instanceof FourierFTLayer) return target.updateLayer(adapterName, nFrequency, config, generator);
    matchFanInFanOut(target as Linear | Conv1D, config, key);
    this.replaceModule(key, new FourierFTLayer(target as Linear | Conv1D, adapterName, nFrequency, config, { key, generator }), adapterName);
  }
}
