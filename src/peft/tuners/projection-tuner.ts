// Tuners whose layers share one pair of frozen random projections drawn from a seed (VeRA's vera_A / vera_B,
// RandLoRA's randlora_A / randlora_B). The tuner holds them as its own BufferDict children keyed by adapter name
// (`base_model.<name>.<adapter>` under a PeftModel); they are drawn once, for the first adapter, sized for the largest
// targeted Linear / Conv1D layer, and later adapters share them. They are saved with the adapter (save_projection) or
// regenerated from projection_prng_key on loading.
import type { Tensor } from '../../engine/tensor.js';
import { BufferDict } from '../../nn/containers.js';
import { Conv1D, Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { AdapterError, AdapterWeightsError, ConfigError, TargetModulesError } from '../errors.js';
import { warn } from '../utils/warnings.js';
import { BaseTuner, checkLayerKind, type TunerConfig, type TunerOptions } from './base-tuner.js';
import { checkSingleBiasAdapter } from './lora/model.js';

export type ProjectionTunerConfig = TunerConfig & { bias: string; projectionPrngKey: number; saveProjection: boolean };

/** The method's name in messages, the tuner's attribute names of its two projections and its default targets. */
export interface ProjectionNames {
  method: string;
  a: string;
  b: string;
  defaultTargets: Readonly<Record<string, string | readonly string[]>>;
}

export abstract class ProjectionTuner<C extends ProjectionTunerConfig, M extends Module = Module> extends BaseTuner<C, M> {
  constructor(
    model: M,
    config: C,
    adapterName: string,
    options: TunerOptions,
    private readonly names: ProjectionNames,
  ) {
    super(model, config, adapterName, options);
    // Non-persistent projections stay out of the state dict: nothing to save, regenerated from the key on loading.
    this.registerModule(names.a, new BufferDict(config.saveProjection));
    this.registerModule(names.b, new BufferDict(config.saveProjection));
    this.fillDefaultTargets(config, names.defaultTargets, names.method);
  }

  protected override injectAdapter(adapterName: string): void {
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, this.names.defaultTargets, this.names.method);
    super.injectAdapter(adapterName);
  }

  protected checkTarget(_config: C, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear, Conv1D], `${this.names.method} supports Linear and Conv1D layers`);
  }

  /** The shared projections: [A, B]. */
  protected get projectionDicts(): [BufferDict, BufferDict] {
    return [this.child<BufferDict>(this.names.a), this.child<BufferDict>(this.names.b)];
  }

  /** The largest [out, in] over the targeted Linear / Conv1D layers (PEFT's _find_dim). */
  protected largestTargetShape(config: C): [number, number] {
    let inFeatures = 0;
    let outFeatures = 0;
    for (const key of this.resolveTargets(config).targeted) {
      const m = this.model.getSubmodule(key);
      if (!(m instanceof Linear || m instanceof Conv1D)) continue;
      inFeatures = Math.max(inFeatures, m.inFeatures);
      outFeatures = Math.max(outFeatures, m.outFeatures);
    }
    if (inFeatures === 0) throw new TargetModulesError(`no layer types compatible with ${this.names.method} (Linear, Conv1D) were found; check target_modules`);
    return [outFeatures, inFeatures];
  }

  /** One bias-training adapter at most, and every adapter with the same projection key and save_projection. */
  protected checkNewAdapterConfig(config: C): void {
    checkSingleBiasAdapter(this.peftConfig.values());
    for (const existing of this.peftConfig.values()) {
      if (existing !== config && existing.projectionPrngKey !== config.projectionPrngKey) {
        throw new ConfigError(
          'projection_prng_key',
          `must be the same for all ${this.names.method} adapters of a model (they share the projections): got ${config.projectionPrngKey} but an existing adapter has ${existing.projectionPrngKey}`,
        );
      }
    }
    const saves = new Set([...this.peftConfig.values()].map((c) => c.saveProjection));
    if (saves.size > 1) throw new ConfigError('save_projection', `must be the same for all ${this.names.method} adapters of a model: the projections are saved for all of them or for none`);
  }

  /**
   * A refused adapter leaves nothing behind: its entries in the layers that took it before the refusal and in the
   * projections are removed, and layers made for it alone give their base layer back.
   */
  override addAdapter(adapterName: string, config: C): void {
    try {
      super.addAdapter(adapterName, config);
    } catch (e) {
      if (!this.peftConfig.has(adapterName)) {
        for (const [key, m] of [...this.model.namedModules()]) {
          if (!this.isTunerLayer(m) || !m.availableAdapters().includes(adapterName)) continue;
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
    for (const dict of this.projectionDicts) dict.delete(adapterName);
  }

  /** Checkpoint key of the A projection as a PeftModel saves it (the tuner is its `base_model`). */
  private get savedA(): string {
    return `base_model.${this.names.a}`;
  }

  private get bothNames(): string {
    return `${this.names.a} / ${this.names.b}`;
  }

  /** With save_projection the projections must be in the state dict, which they are not if the model was built without it. */
  override checkAdapterStateDict(adapterName: string, state: ReadonlyMap<string, Tensor>): void {
    if (this.peftConfig.get(adapterName)!.saveProjection && !state.has(this.savedA)) {
      throw new AdapterError(`adapter '${adapterName}': the model was built with save_projection false, so ${this.bothNames} are not part of its state; set save_projection back to false`);
    }
  }

  /** PEFT's rules for the projections in a checkpoint: required with save_projection, otherwise regenerated (with a warning). */
  override checkAdapterCheckpoint(adapterName: string, keys: ReadonlySet<string>, file?: string): void {
    const saved = keys.has(this.savedA);
    if (this.peftConfig.get(adapterName)!.saveProjection) {
      if (!saved) throw new AdapterWeightsError(file, this.savedA, `save_projection is true but the checkpoint has no ${this.bothNames} projections`);
    } else if (saved) {
      warn(`save_projection is false, so the ${this.bothNames} projections in the checkpoint are ignored; the ones regenerated from projection_prng_key are used.`);
    } else {
      warn(`save_projection is false: ${this.bothNames} are regenerated from projection_prng_key instead of being loaded from the checkpoint.`);
    }
  }
}
