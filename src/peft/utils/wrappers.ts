// Modules trained beside the adapters (PEFT's AuxiliaryTrainingWrapper family in peft/utils/other.py):
// ModulesToSaveWrapper keeps the frozen `original_module` and a trainable copy per adapter in `modules_to_save`;
// TrainableTokensWrapper trains selected rows of an embedding through its `token_adapter`. setTrainable and
// setAdditionalTrainableModules wrap the modules a config names, as PEFT does after injecting an adapter.
import { concat } from '../../engine/ops/join.js';
import { fromArray } from '../../engine/ops/creation.js';
import { indexSelect } from '../../engine/ops/indexing.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModuleDict, ParameterDict } from '../../nn/containers.js';
import { Embedding } from '../../nn/embedding.js';
import { Conv1D, Linear } from '../../nn/linear.js';
import { Module, ModuleList } from '../../nn/module.js';
import { PreTrainedModel } from '../../models/pretrained.js';
import { AdapterError, TargetModulesError, UnsupportedError } from '../errors.js';
import { BaseTunerLayer, type MergeOptions } from '../tuners/base-tuner-layer.js';
import { TrainableTokensLayer } from '../tuners/trainable-tokens/layer.js';

type Callable = Module & { forward(...args: unknown[]): unknown };

export interface UnloadOptions extends MergeOptions {
  merge: boolean;
}

const BASE = '__base__';

export abstract class AuxiliaryTrainingWrapper extends Module {
  /** Adapters this wrapper trains along with. */
  protected readonly adapters = new Set<string>();
  /** Per-sample adapter names for the next forward calls (set by the tuner's withAdapterNames scope). */
  batchAdapterNames: readonly string[] | null = null;
  protected active: string[];
  private disabled = false;

  constructor(adapterName: string) {
    super();
    this.active = [adapterName];
  }

  /** The wrapped module. */
  abstract get originalModule(): Module;

  get activeAdapters(): readonly string[] {
    return this.active;
  }

  get disableAdapters(): boolean {
    return this.disabled;
  }

  /** Adapters that have an entry here. */
  abstract availableAdapters(): string[];

  /** Makes this wrapper train along with `adapterName` too. */
  abstract update(adapterName: string): void;

  enableAdapters(enabled: boolean): void {
    this.disabled = !enabled;
  }

  /** PEFT's check_set_adapter: which one of `names` this wrapper should activate (at most one), or null. */
  checkSetAdapter(names: string | readonly string[]): string | null {
    if (typeof names === 'string') return names;
    if (names.length === 0) throw new AdapterError('set at least one adapter');
    const here = names.filter((n) => this.availableAdapters().includes(n));
    if (here.length > 1) throw new AdapterError(`${this.typeName} can have only one active adapter, got ${JSON.stringify(here)}`);
    return here[0] ?? null;
  }

  abstract setAdapter(names: string | readonly string[], options?: { inferenceMode?: boolean }): void;

  abstract deleteAdapter(name: string, newActive: readonly string[] | null): void;

  abstract setRequiresGrad(names: string | readonly string[], flag?: boolean): void;

  /** The module that replaces this wrapper when the adapters are unloaded (merged into it first if asked). */
  abstract unloadAndOptionallyMerge(options: UnloadOptions): Module;

  /** Saved key → in-memory key (relative to this wrapper) of an adapter's weights; empty if it has none here. */
  abstract adapterStateDictLoadMap(adapterName: string): Map<string, string>;

  protected abstract forwardWrapped(...args: unknown[]): unknown;

  protected abstract forwardPassthrough(...args: unknown[]): unknown;

  protected abstract forwardAdapter(x: Tensor, adapter: string): Tensor;

  forward(...args: unknown[]): unknown {
    const names = this.batchAdapterNames;
    if (this.disabled || this.active.some((a) => !this.adapters.has(a))) return this.forwardPassthrough(...args);
    if (names === null) return this.forwardWrapped(...args);
    return this.mixedBatchForward(args[0] as Tensor, names);
  }

  /** Each sample through its adapter's module ("__base__": the original), results in batch order. */
  private mixedBatchForward(x: Tensor, names: readonly string[]): Tensor {
    const original = this.originalModule;
    if (!(original instanceof Linear || original instanceof Embedding || original instanceof Conv1D)) {
      throw new UnsupportedError(`mixed adapter batches through ${this.typeName} need a Linear, Conv1D or Embedding module, got ${original.typeName}`);
    }
    if (x.shape[0] !== names.length) throw new AdapterError(`adapterNames has ${names.length} entries but the batch has ${x.shape[0]} samples`);
    const order: number[] = [];
    const parts: Tensor[] = [];
    for (const adapter of new Set(names)) {
      const samples = names.flatMap((n, i) => (n === adapter ? [i] : []));
      const sub = indexSelect(x, 0, fromArray(Int32Array.from(samples)));
      parts.push(adapter === BASE ? (original.forward(sub) as Tensor) : this.forwardAdapter(sub, adapter));
      order.push(...samples);
    }
    const inverse = new Int32Array(order.length);
    order.forEach((sample, k) => (inverse[sample] = k));
    return indexSelect(concat(parts, 0), 0, fromArray(inverse));
  }
}

function checkWrappable(module: Module, what: string): void {
  if (module instanceof ModuleDict || module instanceof ModuleList || module instanceof ParameterDict || module instanceof BaseTunerLayer) {
    throw new TargetModulesError(`${what} cannot be applied to a ${module.typeName}`);
  }
}

/** A module trained and saved whole: `original_module` stays frozen, `modules_to_save.<adapter>` is a trainable copy. */
export class ModulesToSaveWrapper extends AuxiliaryTrainingWrapper {
  constructor(module: Module, adapterName: string) {
    super(adapterName);
    checkWrappable(module, 'modules_to_save');
    this.registerModule('original_module', module);
    this.registerModule('modules_to_save', new ModuleDict());
    this.update(adapterName);
  }

  get originalModule(): Module {
    return this.child('original_module');
  }

  get modulesToSave(): ModuleDict {
    return this.child('modules_to_save');
  }

  availableAdapters(): string[] {
    return this.modulesToSave.keys();
  }

  update(adapterName: string): void {
    this.adapters.add(adapterName);
    if (!this.modulesToSave.has(adapterName)) this.modulesToSave.set(adapterName, this.originalModule.clone());
    this.originalModule.requiresGrad(false);
    if (this.active.length === 1 && this.active[0] === adapterName) this.modulesToSave.get(adapterName)!.requiresGrad(true);
  }

  override enableAdapters(enabled: boolean): void {
    super.enableAdapters(enabled);
    if (enabled) for (const a of this.active) this.modulesToSave.get(a)?.requiresGrad(true);
    else for (const [, m] of this.modulesToSave.entries()) m.requiresGrad(false);
  }

  setAdapter(names: string | readonly string[], options: { inferenceMode?: boolean } = {}): void {
    const list = typeof names === 'string' ? [names] : [...names];
    if (list.length > 1) throw new AdapterError(`modules_to_save can have only one active adapter, got ${JSON.stringify(list)}`);
    for (const a of this.active) this.modulesToSave.get(a)?.requiresGrad(false);
    if (list.length === 0) {
      this.active = [];
      return;
    }
    const name = list[0]!;
    if (!this.adapters.has(name)) throw new AdapterError(`adapter '${name}' has no modules_to_save copy here (has ${[...this.adapters].join(', ')})`);
    this.modulesToSave.get(name)!.requiresGrad(!(options.inferenceMode ?? false));
    this.active = [name];
  }

  deleteAdapter(name: string, newActive: readonly string[] | null): void {
    if (!this.modulesToSave.has(name)) return;
    if (newActive !== null && newActive.length > 1) throw new AdapterError(`modules_to_save can have only one active adapter, got ${JSON.stringify(newActive)}`);
    this.adapters.delete(name);
    const next = newActive?.[0];
    if (next === undefined || !this.modulesToSave.has(next)) {
      this.active = [];
    } else if (next !== this.active[0]) {
      this.setAdapter(next);
    }
    this.modulesToSave.delete(name);
  }

  setRequiresGrad(names: string | readonly string[], flag = true): void {
    const list = typeof names === 'string' ? [names] : names;
    for (const [k, m] of this.modulesToSave.entries()) if (list.includes(k)) m.requiresGrad(flag);
  }

  unloadAndOptionallyMerge(): Module {
    if (this.active.length === 0) return this.originalModule;
    return this.modulesToSave.get(this.active[0]!)!;
  }

  adapterStateDictLoadMap(adapterName: string): Map<string, string> {
    if (!this.adapters.has(adapterName)) return new Map();
    const keys = [...this.modulesToSave.get(adapterName)!.stateDict().keys()];
    return new Map(keys.map((k) => [k, `modules_to_save.${adapterName}.${k}`]));
  }

  protected forwardWrapped(...args: unknown[]): unknown {
    if (this.active.length === 0) return this.forwardPassthrough(...args);
    return (this.modulesToSave.get(this.active[0]!) as Callable).forward(...args);
  }

  protected forwardPassthrough(...args: unknown[]): unknown {
    return (this.originalModule as Callable).forward(...args);
  }

  protected forwardAdapter(x: Tensor, adapter: string): Tensor {
    return (this.modulesToSave.get(adapter) as Callable).forward(x) as Tensor;
  }
}

/** Selected rows of an embedding trained as `token_adapter.trainable_tokens_delta.<adapter>`. */
export class TrainableTokensWrapper extends AuxiliaryTrainingWrapper {
  constructor(module: Embedding | Linear, adapterName: string, options: { tokenIndices: readonly number[]; key?: string; tiedAdapter?: TrainableTokensLayer }) {
    super(adapterName);
    checkWrappable(module, 'trainable_token_indices');
    this.registerModule('token_adapter', new TrainableTokensLayer(module, adapterName, options.key ?? '', options.tiedAdapter ?? null));
    this.updateTokens(adapterName, options.tokenIndices);
  }

  get tokenAdapter(): TrainableTokensLayer {
    return this.child('token_adapter');
  }

  get originalModule(): Module {
    return this.tokenAdapter.getBaseLayer();
  }

  /** The embedding matrix with the active adapter's rows written in (PEFT's `wrapper.weight`). */
  get weight(): Tensor {
    return this.tokenAdapter.mergedWeight();
  }

  availableAdapters(): string[] {
    return this.tokenAdapter.trainableTokensDelta.keys();
  }

  update(adapterName: string): void {
    this.adapters.add(adapterName);
  }

  /** Trains rows `tokenIndices` for `adapterName`. */
  updateTokens(adapterName: string, tokenIndices: readonly number[]): void {
    if (!this.adapters.has(adapterName)) this.tokenAdapter.updateLayer(adapterName, tokenIndices);
    this.update(adapterName);
  }

  override enableAdapters(enabled: boolean): void {
    super.enableAdapters(enabled);
    this.tokenAdapter.enableAdapters(enabled);
  }

  setAdapter(names: string | readonly string[], options: { inferenceMode?: boolean } = {}): void {
    const list = typeof names === 'string' ? [names] : [...names];
    for (const n of list) if (!this.adapters.has(n)) throw new AdapterError(`adapter '${n}' has no trainable tokens here (has ${[...this.adapters].join(', ')})`);
    this.active = list;
    this.tokenAdapter.setAdapter(list, options);
  }

  deleteAdapter(name: string, newActive: readonly string[] | null): void {
    this.tokenAdapter.deleteAdapter(name);
    if (newActive !== null && newActive.length > 1) throw new AdapterError(`trainable tokens can have only one active adapter, got ${JSON.stringify(newActive)}`);
    this.adapters.delete(name);
    const next = newActive?.[0];
    if (next === undefined || !this.availableAdapters().includes(next)) this.active = [];
    else this.setAdapter(next);
  }

  setRequiresGrad(names: string | readonly string[], flag = true): void {
    this.tokenAdapter.setRequiresGrad(names, flag);
  }

  unloadAndOptionallyMerge(options: UnloadOptions): Module {
    if (options.merge) this.tokenAdapter.merge(options);
    return this.tokenAdapter.getBaseLayer();
  }

  adapterStateDictLoadMap(adapterName: string): Map<string, string> {
    if (this.tokenAdapter.tiedAdapter !== null) return new Map();
    return new Map([['token_adapter.trainable_tokens_delta', `token_adapter.trainable_tokens_delta.${adapterName}`]]);
  }

  protected forwardWrapped(x: unknown): unknown {
    return this.tokenAdapter.forward(x as Tensor);
  }

  protected forwardPassthrough(x: unknown): unknown {
    return this.tokenAdapter.forward(x as Tensor);
  }

  protected forwardAdapter(x: Tensor, adapter: string): Tensor {
    return this.tokenAdapter.forwardAdapters(x, [adapter]);
  }
}

export interface SetTrainableOptions {
  inferenceMode: boolean;
  /** Activate the adapter on new wrappers (false when an adapter is added beside the active one). */
  activate: boolean;
  /** Trainable tokens instead of whole-module copies. */
  tokenIndices?: readonly number[];
  /** Throw when no module matches. */
  strict?: boolean;
}

/**
 * PEFT's _set_trainable: wraps every module whose dotted name ends with one of `moduleNames` (a plain suffix, no
 * dot boundary), or updates the wrapper already there. Returns the new wrappers.
 */
export function setTrainable(model: Module, adapterName: string, moduleNames: readonly string[], options: SetTrainableOptions): AuxiliaryTrainingWrapper[] {
  const created: AuxiliaryTrainingWrapper[] = [];
  const keys = [...model.namedModules()].map(([k]) => k);
  const found = new Set<string>();
  for (const key of keys) {
    if (!moduleNames.some((n) => key.endsWith(n))) continue;
    let target: Module;
    try {
      target = model.getSubmodule(key);
    } catch {
      continue; // inside a module wrapped earlier in this loop
    }
    const parts = key.split('.');
    const grandparent = parts.length >= 2 ? model.getSubmodule(parts.slice(0, -2).join('.')) : null;
    if (grandparent instanceof BaseTunerLayer) {
      throw new TargetModulesError(
        `'${key}' lies inside the adapter layer '${parts.slice(0, -2).join('.')}'; make sure the adapter name '${adapterName}' does not clash with the module names to wrap`,
      );
    }
    const existing = [grandparent, target].find((m): m is AuxiliaryTrainingWrapper => m instanceof AuxiliaryTrainingWrapper && (options.tokenIndices !== undefined) === (m instanceof TrainableTokensWrapper));
    if (existing !== undefined) {
      if (existing instanceof TrainableTokensWrapper) existing.updateTokens(adapterName, options.tokenIndices!);
      else existing.update(adapterName);
      existing.setAdapter(existing.activeAdapters, { inferenceMode: options.inferenceMode });
    } else {
      let wrapper: AuxiliaryTrainingWrapper;
      if (options.tokenIndices !== undefined) {
        if (!(target instanceof Embedding || target instanceof Linear)) {
          throw new TargetModulesError(`trainable_token_indices: '${key}' is a ${target.typeName}, expected an Embedding (or a Linear LM head)`);
        }
        wrapper = new TrainableTokensWrapper(target, adapterName, { tokenIndices: options.tokenIndices, key });
      } else {
        wrapper = new ModulesToSaveWrapper(target, adapterName);
      }
      wrapper.setAdapter(options.activate ? [adapterName] : [], { inferenceMode: options.inferenceMode });
      model.setSubmodule(key, wrapper);
      created.push(wrapper);
    }
    found.add(parts[parts.length - 1]!);
  }
  if ((options.strict ?? false) && found.size === 0) {
    throw new TargetModulesError(`modules ${JSON.stringify(moduleNames)} were not found in the model; check the module names`);
  }
  return created;
}

/** The config fields that ask for auxiliary training wrappers. */
export interface AuxiliaryConfig {
  modulesToSave: string[] | null;
  trainableTokenIndices: number[] | Record<string, number[]> | null;
  inferenceMode: boolean;
}

/** Name of the input embedding: the model's own for transformers-style models, "embed_tokens" otherwise. */
function inputEmbeddingsName(model: Module): string {
  if (model instanceof PreTrainedModel) {
    const emb = model.getInputEmbeddings();
    for (const [name, m] of model.namedModules()) if (m === emb) return name;
  }
  return 'embed_tokens';
}

/** PEFT's set_additional_trainable_modules: modules_to_save copies and trainable-token wrappers for one adapter. */
export function setAdditionalTrainableModules(model: Module, config: AuxiliaryConfig, adapterName: string, activate: boolean): void {
  const base = { inferenceMode: config.inferenceMode, activate };
  if (config.modulesToSave !== null) setTrainable(model, adapterName, config.modulesToSave, base);
  const indices = config.trainableTokenIndices;
  if (indices === null) return;
  const targets: Record<string, number[]> = Array.isArray(indices) ? { [inputEmbeddingsName(model)]: indices } : indices;
  for (const name of Object.keys(targets)) {
    if (config.modulesToSave?.includes(name)) {
      throw new TargetModulesError(`'${name}' is both in modules_to_save (trained whole) and in trainable_token_indices; use one of them`);
    }
  }
  if (model instanceof PreTrainedModel && model.config.tieWordEmbeddings && model.getOutputEmbeddings() !== null) {
    throw new UnsupportedError('trainable_token_indices on a model with tied input and output embeddings is not supported yet');
  }
  for (const [name, tokenIndices] of Object.entries(targets)) {
    setTrainable(model, adapterName, [name], { ...base, tokenIndices, strict: true });
  }
}
