// What every injected PEFT method shares (PEFT's BaseTuner): the wrapped model as child `model` (hence the
// `base_model.model.` prefix under a PeftModel), the configs per adapter, injection into the targeted modules,
// trainability, switching / deleting / disabling adapters, merging and unloading.
import type { Generator } from '../../engine/random.js';
import type { Tensor } from '../../engine/tensor.js';
import type { SaveableTensor } from '../../io/safetensors-writer.js';
import { BufferDict, ModuleDict, ParameterDict } from '../../nn/containers.js';
import { Embedding } from '../../nn/embedding.js';
import { Conv1D, Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { PreTrainedModel } from '../../models/pretrained.js';
import type { PeftConfig } from '../config.js';
import { AdapterError, ConfigError, TargetModulesError } from '../errors.js';
import { warn } from '../utils/warnings.js';
import { checkAdapterName, countParameters } from '../utils/other.js';
import { AuxiliaryTrainingWrapper, ModulesToSaveWrapper, setAdditionalTrainableModules, type AuxiliaryConfig } from '../utils/wrappers.js';
import { BaseTunerLayer, type MergeOptions } from './base-tuner-layer.js';
import { matchTargets, type MatchTargetsConfig, type TargetMatch } from './match-targets.js';
import type { ModuleInfo } from './tuners-utils.js';

export type TunerConfig = PeftConfig & MatchTargetsConfig & AuxiliaryConfig & { bias?: string };

export interface TunerOptions {
  /** transformers `model_type` (default targets, "all-linear" head exclusion); read from a PreTrainedModel's config when left out. */
  modelType?: string;
  /** Overrides the config's task type for target matching. */
  taskType?: string | null;
  /** Random stream for new adapter weights (the default generator when left out). */
  generator?: Generator;
}

type Forward<M> = M extends { forward(...args: infer A): infer R } ? (...args: A) => R : (...args: unknown[]) => unknown;

/** Whether `key` is one of `prefixes` or lies under one (dot boundaries). */
export function isKeyUnderPrefixes(key: string, prefixes: ReadonlySet<string>): boolean {
  let sub = key;
  for (;;) {
    if (prefixes.has(sub)) return true;
    const cut = sub.lastIndexOf('.');
    if (cut < 0) return false;
    sub = sub.slice(0, cut);
  }
}

/**
 * Key prefixes of everything that belongs to the adapters (PEFT's _get_tuner_state_dict_key_prefixes): every child,
 * parameter and buffer of an adapter layer except its `base_layer`, for layers outside auxiliary wrappers, and of a
 * tuner except its `model` (state the layers share, as VeRA's projections). With `adapterName`, containers are
 * narrowed to that adapter's entry.
 */
export function tunerStateDictKeyPrefixes(model: Module, adapterName?: string): Set<string> {
  const prefixes = new Set<string>();
  const auxNames = new Set<string>();
  for (const [name, m] of model.namedModules()) {
    if (m instanceof AuxiliaryTrainingWrapper) {
      auxNames.add(name);
      continue;
    }
    const isLayer = m instanceof BaseTunerLayer && !isKeyUnderPrefixes(name, auxNames);
    if (!isLayer && !(m instanceof BaseTuner)) continue;
    const join = (attr: string): string => (name === '' ? attr : `${name}.${attr}`);
    for (const [child, c] of m.namedChildren()) {
      if (child === 'base_layer' || child === 'model') continue;
      const keyed = c instanceof ModuleDict || c instanceof ParameterDict || c instanceof BufferDict;
      if (adapterName === undefined || !keyed) prefixes.add(join(child));
      else if (c.has(adapterName)) prefixes.add(join(`${child}.${adapterName}`));
    }
  }
  return prefixes;
}

/**
 * Throws a TargetModulesError naming `key` unless `target` (or, for an adapter layer, the layer it wraps) is an
 * instance of one of `kinds`; `supported` says what the method takes.
 */
export function checkLayerKind(target: Module, key: string, kinds: readonly (abstract new (...args: never[]) => Module)[], supported: string): void {
  const base = target instanceof BaseTunerLayer ? target.getBaseLayer() : target;
  if (!kinds.some((k) => base instanceof k)) throw new TargetModulesError(`target module '${key}' is a ${base.typeName}; ${supported}`);
}

/** The model's modules as target matching sees them. */
export function moduleInfos(model: Module): ModuleInfo[] {
  const head = model instanceof PreTrainedModel ? model.outputEmbeddingsName() : null;
  return [...model.namedModules()].map(([name, m]) => ({
    name,
    type: m instanceof Linear ? 'Linear' : m instanceof Conv1D ? 'Conv1D' : m instanceof Embedding ? 'Embedding' : m.typeName,
    isOutputEmbedding: head !== null && name === head,
    isTunerLayer: m instanceof BaseTunerLayer,
  }));
}

export abstract class BaseTuner<C extends TunerConfig, M extends Module = Module> extends Module {
  readonly peftConfig = new Map<string, C>();
  /** Every module that received an adapter, in injection order. */
  readonly targetedModuleNames: string[] = [];
  private active: string[];

  constructor(
    model: M,
    config: C,
    adapterName: string,
    protected readonly options: TunerOptions = {},
  ) {
    super();
    checkAdapterName(adapterName);
    this.registerModule('model', model);
    this.peftConfig.set(adapterName, config);
    this.active = [adapterName];
  }

  get model(): M {
    return this.child<M>('model');
  }

  get activeAdapters(): readonly string[] {
    return this.active;
  }

  /** Runs the wrapped model. */
  forward(...args: Parameters<Forward<M>>): ReturnType<Forward<M>> {
    return (this.model as unknown as { forward: Forward<M> }).forward(...args) as ReturnType<Forward<M>>;
  }

  /** The config class this tuner's adapters use (LoraConfig, IA3Config, …). */
  protected abstract readonly configClass: abstract new (...args: never[]) => C;

  /** Adds an adapter beside the existing ones. As in PEFT it is not activated: call setAdapter to use it. */
  addAdapter(adapterName: string, config: C): void {
    checkAdapterName(adapterName);
    if (this.peftConfig.has(adapterName)) throw new AdapterError(`adapter '${adapterName}' already exists`);
    if (!(config instanceof this.configClass)) {
      throw new AdapterError(`adapter '${adapterName}': a ${this.typeName} takes ${this.configClass.name} adapters only`);
    }
    this.peftConfig.set(adapterName, config);
    try {
      this.injectAdapter(adapterName);
    } catch (e) {
      this.peftConfig.delete(adapterName);
      throw e;
    }
  }

  /** The method's adapter layers (e.g. LoraLayer). */
  protected abstract isTunerLayer(m: Module): m is BaseTunerLayer;

  /** Refuses configs the method cannot take (unsupported options, conflicts with existing adapters). */
  protected abstract checkNewAdapterConfig(config: C): void;

  /** Throws before anything changes if `target` cannot take an adapter. */
  protected abstract checkTarget(config: C, target: Module, key: string): void;

  /** Adds the adapter to `target` (an existing adapter layer) or replaces it by a new adapter layer. */
  protected abstract createAndReplace(config: C, adapterName: string, target: Module, key: string): void;

  /**
   * PEFT's inject_adapter: resolves the targets, swaps the layers, then sets trainability and auxiliary wrappers.
   * Subclass constructors call it for the first adapter once their own fields exist.
   */
  protected injectAdapter(adapterName: string): void {
    const config = this.peftConfig.get(adapterName)!;
    this.checkNewAdapterConfig(config);
    const model = this.model;
    const match = this.resolveTargets(config);
    for (const key of match.targeted) this.checkTarget(config, model.getSubmodule(key), key);
    config.targetModules = match.targetModules;

    // Adding an adapter must not change the trainability of what was there before.
    const firstInjection = ![...model.namedModules()].some(([, m]) => m instanceof BaseTunerLayer);
    const restore = firstInjection
      ? []
      : model.namedParameters().filter(([n]) => !n.includes(`.${adapterName}.`) && !n.endsWith(`.${adapterName}`)).map(([, t]) => [t, t.requiresGrad] as const);

    for (const key of match.targeted) this.createAndReplace(config, adapterName, model.getSubmodule(key), key);
    for (const key of match.targeted) if (!this.targetedModuleNames.includes(key)) this.targetedModuleNames.push(key);

    this.setAdapter(this.active, { inferenceMode: config.inferenceMode });
    this.markOnlyAdaptersAsTrainable();
    setAdditionalTrainableModules(model, config, adapterName, this.active.includes(adapterName));
    for (const [t, flag] of restore) t.requiresGrad = flag;
  }

  /** The transformers `model_type` of the wrapped model (options.modelType first); undefined for other modules. */
  protected get modelType(): string | undefined {
    const model = this.model;
    return this.options.modelType ?? (model instanceof PreTrainedModel ? model.config.modelType : undefined);
  }

  /**
   * PEFT's _prepare_adapter_config: an adapter without target_modules gets the model type's entry of the method's
   * `defaults` table (a string is a regex); `method` names the method in the error when there is none.
   */
  protected fillDefaultTargets(config: C, defaults: Readonly<Record<string, string | readonly string[]>>, method: string): void {
    if (config.targetModules !== null) return;
    const modelType = this.modelType ?? 'custom';
    const targets = defaults[modelType];
    if (targets === undefined) throw new ConfigError('target_modules', `is not set and there are no default ${method} targets for model type '${modelType}'`);
    config.targetModules = typeof targets === 'string' ? targets : new Set(targets);
  }

  /** The modules `config` targets in the wrapped model, as injection resolves them (nothing is changed). */
  protected resolveTargets(config: C): TargetMatch {
    const model = this.model;
    const modelType = this.modelType;
    const matchConfig = this.options.taskType === undefined ? config : { ...config, taskType: this.options.taskType };
    return matchTargets(moduleInfos(model), matchConfig, modelType === undefined ? {} : { modelType });
  }

  /** Puts adapter layer `layer` in place of module `key`; a layer made for an adapter that is not active starts frozen. */
  protected replaceModule(key: string, layer: BaseTunerLayer, adapterName: string): void {
    if (!this.activeAdapters.includes(adapterName)) layer.requiresGrad(false);
    this.model.setSubmodule(key, layer);
  }

  /**
   * Checks the tensors adapter `adapterName` is about to save (`state`, by checkpoint key, under a PeftModel);
   * methods with saving rules of their own override it.
   */
  checkAdapterStateDict(_adapterName: string, _state: ReadonlyMap<string, Tensor>): void {}

  /** Checks the keys of checkpoint `file` about to be loaded into adapter `adapterName` (under a PeftModel); see checkAdapterStateDict. */
  checkAdapterCheckpoint(_adapterName: string, _keys: ReadonlySet<string>, _file?: string): void {}

  /**
   * Rewrites adapter `adapterName`'s state (by checkpoint key, under a PeftModel) in place into the form its file
   * holds, for methods that save their tensors in another form (PEFT's _get_adapter_state_dict overrides).
   */
  toSavedState(_adapterName: string, _state: Map<string, Tensor>): void {}

  /** The inverse of toSavedState, in place, on a checkpoint about to be loaded (PEFT's _remap_adapter_state_dict_for_load overrides). */
  fromSavedState(_adapterName: string, _weights: Map<string, Tensor>, _file?: string): void {}

  /** The tensors of a saved state as the adapter file stores them (narrower integer types than the engine's int32). */
  fileTensors(_adapterName: string, state: ReadonlyMap<string, Tensor>): Record<string, SaveableTensor> {
    return Object.fromEntries(state);
  }

  /** Freezes everything but the adapter weights, then applies the active adapters' `bias` modes. */
  protected markOnlyAdaptersAsTrainable(): void {
    const model = this.model;
    const prefixes = tunerStateDictKeyPrefixes(model);
    const auxNames = new Set([...model.namedModules()].filter(([, m]) => m instanceof AuxiliaryTrainingWrapper).map(([n]) => n));
    for (const [name, t] of model.namedParameters()) {
      if (isKeyUnderPrefixes(name, prefixes) || isKeyUnderPrefixes(name, auxNames)) continue;
      t.requiresGrad = false;
    }
    for (const adapter of this.active) {
      const bias = this.peftConfig.get(adapter)?.bias ?? 'none';
      if (bias === 'all') {
        for (const [name, t] of model.namedParameters()) if ((name === 'bias' || name.endsWith('.bias')) && t.dtype === 'float32') t.requiresGrad = true;
      } else if (bias.endsWith('_only')) {
        for (const [, m] of model.namedModules()) {
          const b = this.isTunerLayer(m) ? m.getBaseLayer().parameter('bias') : null;
          if (b !== null && b.dtype === 'float32') b.requiresGrad = true;
        }
      }
    }
  }

  private wrappers(): AuxiliaryTrainingWrapper[] {
    return [...this.model.namedModules()].map(([, m]) => m).filter((m): m is AuxiliaryTrainingWrapper => m instanceof AuxiliaryTrainingWrapper);
  }

  private tunerLayers(): BaseTunerLayer[] {
    return [...this.model.namedModules()].map(([, m]) => m).filter((m): m is BaseTunerLayer => this.isTunerLayer(m));
  }

  /** Every adapter layer of any kind (LoRA layers and the token adapters inside wrappers). */
  private allAdapterLayers(): BaseTunerLayer[] {
    return [...this.model.namedModules()].map(([, m]) => m).filter((m): m is BaseTunerLayer => m instanceof BaseTunerLayer);
  }

  private checkKnown(names: readonly string[]): void {
    for (const n of names) {
      if (!this.peftConfig.has(n)) throw new AdapterError(`adapter '${n}' does not exist (have ${[...this.peftConfig.keys()].join(', ')})`);
    }
  }

  /**
   * Activates one or several adapters (several are summed in the forward); they become trainable unless
   * inferenceMode. Merged layers are unmerged first.
   */
  setAdapter(names: string | readonly string[], options: { inferenceMode?: boolean } = {}): void {
    const list = typeof names === 'string' ? [names] : [...names];
    this.checkKnown(list);
    for (const w of this.wrappers()) {
      const name = w.checkSetAdapter(list);
      w.setAdapter(name !== null && w.availableAdapters().includes(name) ? [name] : [], options);
    }
    for (const layer of this.tunerLayers()) {
      if (layer.merged) {
        warn(`${layer.key}: adapters cannot be switched while merged; unmerging first.`);
        layer.unmerge();
      }
      layer.setAdapter(list, options);
    }
    this.active = list;
  }

  /** Removes an adapter everywhere; a deleted active adapter is replaced as PEFT does. Merged adapters cannot be deleted. */
  deleteAdapter(name: string): void {
    this.checkKnown([name]);
    const merged = this.allAdapterLayers().filter((l) => l.mergedAdapters.includes(name));
    if (merged.length > 0) throw new AdapterError(`cannot delete adapter '${name}' while it is merged (in ${merged[0]!.key}); unmerge it first`);
    this.peftConfig.delete(name);
    let next: string[] | null = null;
    for (const layer of this.tunerLayers()) {
      layer.deleteAdapter(name);
      next ??= [...layer.activeAdapters];
    }
    for (const w of this.wrappers()) w.deleteAdapter(name, next);
    this.active = next ?? [];
  }

  enableAdapterLayers(): void {
    for (const m of [...this.allAdapterLayers(), ...this.wrappers()]) m.enableAdapters(true);
  }

  /** The model then computes the base output (bias modes other than "none" still changed the base biases' training). */
  disableAdapterLayers(): void {
    for (const a of this.active) {
      const bias = this.peftConfig.get(a)?.bias ?? 'none';
      if (bias !== 'none') warn(`bias is '${bias}': with the adapters disabled the outputs are not those of the untouched base model if the biases were trained.`);
    }
    for (const m of [...this.allAdapterLayers(), ...this.wrappers()]) m.enableAdapters(false);
  }

  /** Runs fn with every adapter disabled (PEFT's disable_adapter context); an async fn keeps them disabled until it settles. */
  withDisabledAdapters<T>(fn: () => T): T {
    this.disableAdapterLayers();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.enableAdapterLayers();
      throw e;
    }
    if (result instanceof Promise) return result.finally(() => this.enableAdapterLayers()) as T;
    this.enableAdapterLayers();
    return result;
  }

  /** Merges adapters (the active ones by default) into the base weights; they stay loaded and can be unmerged. */
  mergeAdapter(adapterNames?: readonly string[], options: { safeMerge?: boolean } = {}): void {
    if (adapterNames !== undefined) this.checkKnown(adapterNames);
    const merge: MergeOptions = { safeMerge: options.safeMerge ?? false, ...(adapterNames === undefined ? {} : { adapterNames: [...adapterNames] }) };
    for (const layer of this.allAdapterLayers()) layer.merge(merge);
  }

  unmergeAdapter(): void {
    for (const layer of this.allAdapterLayers()) layer.unmerge();
  }

  /** Merges the adapters into the base weights and puts the original layers back; returns the base model. */
  mergeAndUnload(options: MergeOptions = {}): M {
    if (options.adapterNames !== undefined) this.checkKnown(options.adapterNames);
    return this.unloadModules({ ...options, merge: true });
  }

  /** Puts the original layers back without merging; returns the base model. */
  unload(): M {
    return this.unloadModules({ merge: false });
  }

  private unloadModules(options: MergeOptions & { merge: boolean }): M {
    const model = this.model;
    const all = [...model.namedModules()];
    const layerNames = new Set(all.filter(([, m]) => m instanceof BaseTunerLayer).map(([n]) => n));
    const keys = all.map(([n]) => n).filter((n) => n !== '' && !isKeyUnderPrefixes(n.slice(0, Math.max(n.lastIndexOf('.'), 0)), layerNames));
    for (const key of keys) {
      let target: Module;
      try {
        target = model.getSubmodule(key);
      } catch {
        continue; // lay inside a module replaced earlier in this loop
      }
      if (target instanceof AuxiliaryTrainingWrapper) {
        model.setSubmodule(key, target.unloadAndOptionallyMerge(options));
      } else if (target instanceof BaseTunerLayer) {
        if (options.merge) target.merge(options);
        model.setSubmodule(key, target.getBaseLayer());
      }
    }
    return model;
  }

  /** Trainable and total parameter counts (tied weights once), as PEFT's get_nb_trainable_parameters. */
  getNbTrainableParameters(): { trainable: number; all: number } {
    return countParameters(this);
  }

  /**
   * The configs of `adapters` for addWeightedAdapter, after PEFT's checks: one finite weight per adapter, every
   * adapter present, and no module trained by two of them through modules_to_save.
   */
  protected weightedAdapterConfigs(adapters: readonly string[], weights: readonly number[]): C[] {
    if (adapters.length === 0 || adapters.length !== weights.length) throw new AdapterError(`give one weight per adapter (got ${adapters.length} adapters and ${weights.length} weights)`);
    const bad = weights.findIndex((w) => typeof w !== 'number' || !Number.isFinite(w));
    if (bad >= 0) throw new AdapterError(`weights must be finite numbers, got ${String(weights[bad])} for adapter '${adapters[bad]}'`);
    const configs = adapters.map((a) => {
      const c = this.peftConfig.get(a);
      if (c === undefined) throw new AdapterError(`adapter '${a}' does not exist`);
      return c;
    });
    const shared = [...this.model.namedModules()].filter(([, m]) => m instanceof ModulesToSaveWrapper && adapters.filter((a) => m.availableAdapters().includes(a)).length > 1);
    if (shared.length > 0) throw new AdapterError(`cannot combine adapters that both train '${shared[0]![0]}' through modules_to_save`);
    return configs;
  }
}
