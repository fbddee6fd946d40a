// VeraModel (PEFT's vera/model.py): draws the projections vera_A / vera_B once, for the first adapter, sized for the
// largest targeted layer, and holds them as its own children (`base_model.vera_A.<adapter>` under a PeftModel); later
// adapters share them. They are saved with the adapter (save_projection) or regenerated from projection_prng_key.
import type { Tensor } from '../../../engine/tensor.js';
import { BufferDict } from '../../../nn/containers.js';
import { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError, AdapterWeightsError, ConfigError, TargetModulesError } from '../../errors.js';
import { TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { warn } from '../../utils/warnings.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { checkSingleBiasAdapter } from '../lora/model.js';
import { VeraConfig } from './config.js';
import { VeraLayer, type SharedProjections } from './layer.js';
import { veraProjections } from './projections.js';

/** Checkpoint keys of the projections as a PeftModel saves them (the tuner is its `base_model`). */
const SAVED_A = 'base_model.vera_A';

export class VeraModel<M extends Module = Module> extends BaseTuner<VeraConfig, M> {
  protected readonly configClass = VeraConfig;
  /** Prefix of the VeRA parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'vera_lambda_';

  constructor(model: M, config: VeraConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    // Non-persistent projections stay out of the state dict: nothing to save, regenerated from the key on loading.
    this.registerModule('vera_A', new BufferDict(config.saveProjection));
    this.registerModule('vera_B', new BufferDict(config.saveProjection));
    this.initProjections(config, adapterName);
    this.injectAdapter(adapterName);
  }

  private get projections(): SharedProjections {
    return { veraA: this.child<BufferDict>('vera_A'), veraB: this.child<BufferDict>('vera_B') };
  }

  /** PEFT's _find_dim and _init_vera_A_vera_B: projections for the largest [out, in] over the targeted Linear / Conv1D layers. */
  private initProjections(config: VeraConfig, adapterName: string): void {
    this.fillDefaultTargets(config, TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING, 'VeRA');
    let inFeatures = 0;
    let outFeatures = 0;
    for (const key of this.resolveTargets(config).targeted) {
      const m = this.model.getSubmodule(key);
      if (!(m instanceof Linear || m instanceof Conv1D)) continue;
      inFeatures = Math.max(inFeatures, m.inFeatures);
      outFeatures = Math.max(outFeatures, m.outFeatures);
    }
    if (inFeatures === 0) throw new TargetModulesError('no layer types compatible with VeRA (Linear, Conv1D) were found; check target_modules');
    const { A, B } = veraProjections(config.projectionPrngKey, config.r, inFeatures, outFeatures);
    const { veraA, veraB } = this.projections;
    veraA.set(adapterName, A);
    veraB.set(adapterName, B);
  }

  protected override injectAdapter(adapterName: string): void {
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING, 'VeRA');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof VeraLayer;
  }

  /** One bias-training adapter at most, and every adapter with the same projection key and save_projection. */
  protected checkNewAdapterConfig(config: VeraConfig): void {
    checkSingleBiasAdapter(this.peftConfig.values());
    for (const existing of this.peftConfig.values()) {
      if (existing !== config && existing.projectionPrngKey !== config.projectionPrngKey) {
        throw new ConfigError(
          'projection_prng_key',
          `must be the same for all VeRA adapters of a model (they share the projections): got ${config.projectionPrngKey} but an existing adapter has ${existing.projectionPrngKey}`,
        );
      }
    }
    const saves = new Set([...this.peftConfig.values()].map((c) => c.saveProjection));
    if (saves.size > 1) throw new ConfigError('save_projection', 'must be the same for all VeRA adapters of a model: the projections are saved for all of them or for none');
  }

  protected checkTarget(_config: VeraConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear, Conv1D], 'VeRA supports Linear and Conv1D layers');
  }

  protected createAndReplace(config: VeraConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof VeraLayer) return target.updateLayer(adapterName, config, generator);
    matchFanInFanOut(target as Linear | Conv1D, config, key);
    this.replaceModule(key, new VeraLayer(target as Linear | Conv1D, adapterName, this.projections, config, { key, generator }), adapterName);
  }

  /**
   * A refused adapter leaves nothing behind: its entries in the layers that took it before the refusal and in the
   * projections are removed, and layers made for it alone give their base layer back.
   */
  override addAdapter(adapterName: string, config: VeraConfig): void {
    try {
      super.addAdapter(adapterName, config);
    } catch (e) {
      if (!this.peftConfig.has(adapterName)) {
        for (const [key, m] of [...this.model.namedModules()]) {
          if (!(m instanceof VeraLayer) || !m.hasAdapter(adapterName)) continue;
          m.deleteAdapter(adapterName);
          if (m.availableAdapters().length === 0) this.model.setSubmodule(key, m.getBaseLayer());
        }
        this.dropProjections(adapterName);
      }
      throw e;
    }
  }

  /** Also drops the adapter's entries of the shared projections (the tensors stay with the adapters that share them). */
  override deleteAdapter(name: string): void {
    super.deleteAdapter(name);
    this.dropProjections(name);
  }

  private dropProjections(adapterName: string): void {
    const { veraA, veraB } = this.projections;
    veraA.delete(adapterName);
    veraB.delete(adapterName);
  }

  /** With save_projection the projections must be in the state dict, which they are not if the model was built without it. */
  override checkAdapterStateDict(adapterName: string, state: ReadonlyMap<string, Tensor>): void {
    if (this.peftConfig.get(adapterName)!.saveProjection && !state.has(SAVED_A)) {
      throw new AdapterError(`adapter '${adapterName}': the model was built with save_projection false, so vera_A / vera_B are not part of its state; set save_projection back to false`);
    }
  }

  /** PEFT's rules for the projections in a checkpoint: required with save_projection, otherwise regenerated (with a warning). */
  override checkAdapterCheckpoint(adapterName: string, keys: ReadonlySet<string>, file?: string): void {
    const saved = keys.has(SAVED_A);
    if (this.peftConfig.get(adapterName)!.saveProjection) {
      if (!saved) throw new AdapterWeightsError(file, SAVED_A, `save_projection is true but the checkpoint has no vera_A / vera_B projections`);
    } else if (saved) {
      warn('save_projection is false, so the vera_A / vera_B projections in the checkpoint are ignored; the ones regenerated from projection_prng_key are used.');
    } else {
      warn('save_projection is false: vera_A / vera_B are regenerated from projection_prng_key instead of being loaded from the checkpoint.');
    }
  }
}
