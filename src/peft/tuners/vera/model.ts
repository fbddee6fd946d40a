// VeraModel (PEFT's vera/model.py): draws the projections vera_A / vera_B once, for the first adapter, sized for the
// largest targeted layer, and holds them as its own children (`base_model.vera_A.<adapter>` under a PeftModel); later
// adapters share them. They are saved with the adapter (save_projection) or regenerated from projection_prng_key.
import type { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import type { TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { ProjectionTuner } from '../projection-tuner.js';
import { VeraConfig } from './config.js';
import { VeraLayer, type SharedProjections } from './layer.js';
import { veraProjections } from './projections.js';

export class VeraModel<M extends Module = Module> extends ProjectionTuner<VeraConfig, M> {
  protected readonly configClass = VeraConfig;
  /** Prefix of the VeRA parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'vera_lambda_';

  constructor(model: M, config: VeraConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options, { method: 'VeRA', a: 'vera_A', b: 'vera_B', defaultTargets: TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING });
    this.initProjections(config, adapterName);
    this.injectAdapter(adapterName);
  }

  private get projections(): SharedProjections {
    const [veraA, veraB] = this.projectionDicts;
    return { veraA, veraB };
  }

  /** PEFT's _init_vera_A_vera_B: projections for the largest [out, in] over the targeted Linear / Conv1D layers. */
  private initProjections(config: VeraConfig, adapterName: string): void {
    const [outFeatures, inFeatures] = this.largestTargetShape(config);
    const { A, B } = veraProjections(config.projectionPrngKey, config.r, inFeatures, outFeatures);
    const { veraA, veraB } = this.projections;
    veraA.set(adapterName, A);
    veraB.set(adapterName, B);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof VeraLayer;
  }

  protected createAndReplace(config: VeraConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof VeraLayer) return target.updateLayer(adapterName, config, generator);
    matchFanInFanOut(target as Linear | Conv1D, config, key);
    this.replaceModule(key, new VeraLayer(target as Linear | Conv1D, adapterName, this.projections, config, { key, generator }), adapterName);
  }
}
