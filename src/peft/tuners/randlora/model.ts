// RandLoraModel (PEFT's randlora/model.py): draws the bases randlora_A / randlora_B once, for the first adapter, sized
// for the largest targeted layer, and holds them as its own children (`base_model.randlora_A.<adapter>` under a
// PeftModel) and as children of every RandLoRA layer; later adapters share them. They are saved with the adapter
// (save_projection) or regenerated from projection_prng_key.
import type { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { TRANSFORMERS_MODELS_TO_RANDLORA_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import type { TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { ProjectionTuner } from '../projection-tuner.js';
import { randLoraBases } from './bases.js';
import { RandLoraConfig } from './config.js';
import { RandLoraLayer, type SharedBases } from './layer.js';

export class RandLoraModel<M extends Module = Module> extends ProjectionTuner<RandLoraConfig, M> {
  protected readonly configClass = RandLoraConfig;
  /** Prefix of the RandLoRA parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'randlora_';

  constructor(model: M, config: RandLoraConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options, { method: 'RandLora', a: 'randlora_A', b: 'randlora_B', defaultTargets: TRANSFORMERS_MODELS_TO_RANDLORA_TARGET_MODULES_MAPPING });
    const { r, sparse, verySparse } = config;
    const { A, B } = randLoraBases(config.projectionPrngKey, { r, sparse, verySparse, largestShape: this.largestTargetShape(config) });
    const { randloraA, randloraB } = this.bases;
    randloraA.set(adapterName, A);
    randloraB.set(adapterName, B);
    this.injectAdapter(adapterName);
  }

  private get bases(): SharedBases {
    const [randloraA, randloraB] = this.projectionDicts;
    return { randloraA, randloraB };
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof RandLoraLayer;
  }

  protected createAndReplace(config: RandLoraConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof RandLoraLayer) return target.updateLayer(adapterName, config, generator);
    matchFanInFanOut(target as Linear | Conv1D, config, key);
    this.replaceModule(key, new RandLoraLayer(target as Linear | Conv1D, adapterName, this.bases, config, { key, generator }), adapterName);
  }
}
