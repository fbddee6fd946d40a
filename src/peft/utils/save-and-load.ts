// Adapter state dicts as PEFT's save_and_load.py handles them: which entries of a model's state dict make up
// one adapter, how their keys lose the adapter name on saving (`…lora_A.default.weight` → `…lora_A.weight`)
// and get it back on loading, and reading adapter_model.safetensors / adapter_model.bin.
//
// selectAdapterStateDict / remapAdapterStateDictForLoad are pure: they take the model's keys and a description
// of where its adapter layers sit (PeftStateLayout) and work on maps from key to any value, so they run on key
// lists alone; getPeftModelStateDict / setPeftModelStateDict apply them to a live module tree. Which keys belong
// to an adapter is decided structurally, by module, as PEFT does; other adapters' entries are recognised by
// the adapter name in a container position (`<layer>.lora_A.<name>…`, `<wrapper>.modules_to_save.<name>.…`),
// not by PEFT's substring filter, so an adapter named like a module path segment cannot drop tensors
// (huggingface/peft#3584).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatShape, sameShape } from '../../engine/shape.js';
import type { Tensor } from '../../engine/tensor.js';
import type { AdapterFolder } from '../../io/adapter-folder.js';
import { SafetensorsFile } from '../../io/safetensors-reader.js';
import { loadTorchCheckpoint } from '../../io/torch-checkpoint.js';
import type { Module } from '../../nn/module.js';
import type { PeftConfig } from '../config.js';
import { AdapterError, AdapterWeightsError } from '../errors.js';
import { BaseTuner } from '../tuners/base-tuner.js';
import { BaseTunerLayer } from '../tuners/base-tuner-layer.js';
import { AdaLoraConfig } from '../tuners/adalora/config.js';
import { resizeModulesByRankPattern, resizeStateDictByRankPattern, stripAdapterName } from '../tuners/adalora/rank-pattern.js';
import { LoraSharedConfig } from '../tuners/lora/config.js';
import { ModulesToSaveWrapper, TrainableTokensWrapper } from './wrappers.js';
import { INCLUDE_LINEAR_LAYERS_SHORTHAND } from './constants.js';
import { matchTargetAgainstKey } from './other.js';
import { pyMatch } from './python-regex.js';
import { warn } from './warnings.js';

/** The prefix PeftModel puts before the base model's keys (PeftModel.base_model → LoraModel.model). */
export const PEFT_PREFIX = 'base_model.model.';

/** Modules whose full weights are saved with the adapter when they are targeted (or the vocabulary changed). */
export const EMBEDDING_LAYER_NAMES = ['embed_tokens', 'lm_head'] as const;

export const SAFETENSORS_WEIGHTS_NAME = 'adapter_model.safetensors';
export const WEIGHTS_NAME = 'adapter_model.bin';

/** A ModulesToSaveWrapper or TrainableTokensWrapper (PEFT's AuxiliaryTrainingWrapper). */
export interface AuxModuleLayout {
  /** Full module name (state-dict key prefix). */
  name: string;
  kind: 'modules_to_save' | 'trainable_tokens';
  /** Adapters that have an entry in this wrapper. */
  adapters: readonly string[];
  /** Trainable tokens that share another wrapper's delta (tied embeddings): nothing of theirs is saved. */
  tied?: boolean;
}

/** Where the adapter-carrying modules of a model are, by full module name. */
export interface PeftStateLayout {
  /** LoRA layers (PEFT's BaseTunerLayer) outside auxiliary wrappers. */
  tunerLayers: readonly string[];
  /** `<layer>.<container>` names of tuner-layer containers that adapter files leave out (AdaLoRA's ranknum). */
  unsavedContainers?: ReadonlySet<string>;
  /**
   * Tuners (PEFT's BaseTuner) whose own children besides the wrapped `model` hold adapter state the layers share,
   * keyed by adapter name (VeRA's `vera_A` / `vera_B`).
   */
  tuners?: readonly string[];
  auxModules: readonly AuxModuleLayout[];
  /** The modules get_input_embeddings() / get_output_embeddings() return (a LoRA layer when targeted). */
  inputEmbedding: string | null;
  outputEmbedding: string | null;
  /** Every module name of the model, root excluded. */
  moduleNames: ReadonlySet<string>;
}

/** The config fields that decide what an adapter saves. */
export interface StateDictConfig {
  /** Which biases are saved: none, all, or (`<method>_only`) those of the adapted layers. */
  bias: 'none' | 'all' | `${string}_only`;
  useDora: boolean;
  targetModules: string | Set<string> | null;
  trainableTokenIndices: number[] | Record<string, number[]> | null;
}

/**
 * The checkpoint key of a model key: the adapter name removed where PEFT puts it — at the end (a parameter
 * in a ParameterDict, e.g. `lora_embedding_A.default`) or just before the last segment (`lora_A.default.weight`).
 */
export function removeAdapterNameFromKey(key: string, adapterName: string): string {
  if (!key.includes('.')) return key;
  const suffix = `.${adapterName}`;
  if (key.endsWith(suffix)) return key.slice(0, -suffix.length);
  const cut = key.lastIndexOf('.');
  const head = key.slice(0, cut);
  return `${head.endsWith(suffix) ? head.slice(0, -suffix.length) : head}${key.slice(cut)}`;
}

/**
 * `<layer>.<attr>.<adapter>…` keys of tuner layers, and `<tuner>.<attr>.<adapter>…` keys of a tuner's shared state:
 * the attribute and the adapter, or null for other keys.
 */
function tunerEntry(layout: PeftStateLayout, key: string): { layer: string; attr: string; adapter: string | undefined } | null {
  for (const layer of layout.tunerLayers) {
    if (!key.startsWith(`${layer}.`)) continue;
    const [attr, adapter] = key.slice(layer.length + 1).split('.');
    return { layer, attr: attr!, adapter };
  }
  for (const tuner of layout.tuners ?? []) {
    if (!key.startsWith(`${tuner}.`)) continue;
    const [attr, adapter] = key.slice(tuner.length + 1).split('.');
    if (attr !== 'model') return { layer: tuner, attr: attr!, adapter };
  }
  return null;
}

/** Whether `key` is a tuner-layer entry of adapter `adapterName` that adapter files hold. */
function savedTunerEntry(layout: PeftStateLayout, key: string, adapterName: string): boolean {
  const entry = tunerEntry(layout, key);
  if (entry === null || entry.attr === 'base_layer' || entry.adapter !== adapterName) return false;
  return layout.unsavedContainers?.has(`${entry.layer}.${entry.attr}`) !== true;
}

/** The adapter that owns `key` through a container keyed by adapter name, if any. */
function owningAdapter(layout: PeftStateLayout, key: string): string | undefined {
  const tuner = tunerEntry(layout, key);
  if (tuner !== null) return tuner.attr === 'base_layer' ? undefined : tuner.adapter;
  for (const aux of layout.auxModules) {
    if (!key.startsWith(`${aux.name}.`)) continue;
    const rest = key.slice(aux.name.length + 1).split('.');
    if (aux.kind === 'modules_to_save' && rest[0] === 'modules_to_save') return rest[1];
    if (aux.kind === 'trainable_tokens' && rest[0] === 'token_adapter' && rest[1] === 'trainable_tokens_delta') return rest[2];
  }
  return undefined;
}

function embeddingIsTargeted(layout: PeftStateLayout, config: StateDictConfig): boolean {
  const t = config.targetModules;
  if (typeof t === 'string') {
    if (t.toLowerCase() === INCLUDE_LINEAR_LAYERS_SHORTHAND) return false;
    for (const full of layout.moduleNames) {
      const name = full.startsWith(PEFT_PREFIX) ? full.slice(PEFT_PREFIX.length) : full;
      if (EMBEDDING_LAYER_NAMES.some((e) => pyMatch(`(.*\\.)?${e}$`, name) !== null) && matchTargetAgainstKey(t, name)) return true;
    }
    return false;
  }
  return t !== null && EMBEDDING_LAYER_NAMES.some((e) => t.has(e));
}

export interface GetStateDictOptions {
  /** Every adapter of the model (their entries are left out). */
  adapterNames: readonly string[];
  /**
   * Save the full input/output embedding weights as well. 'auto' (PEFT's default): when an embedding layer
   * is targeted (and trainable tokens are not used), or when `vocabResized`.
   */
  saveEmbeddingLayers?: boolean | 'auto';
  /** The model's vocabulary differs from the base checkpoint's (PEFT compares config.json vocab sizes). */
  vocabResized?: boolean;
}

/**
 * PEFT's get_peft_model_state_dict: the entries of one adapter with their checkpoint keys — the tuner layers'
 * tensors of this adapter, biases by `config.bias`, the modules_to_save copies and trainable-token deltas
 * under their wrapper's name, embedding weights when they are saved, DoRA magnitudes as `…lora_magnitude_vector`.
 */
export function selectAdapterStateDict<V>(
  layout: PeftStateLayout,
  stateDict: ReadonlyMap<string, V>,
  config: StateDictConfig,
  adapterName: string,
  options: GetStateDictOptions,
): Map<string, V> {
  const others = new Set(options.adapterNames.filter((a) => a !== adapterName));
  const ours = new Map([...stateDict].filter(([k]) => !others.has(owningAdapter(layout, k) ?? '')));
  const out = new Map<string, V>();

  for (const [k, v] of ours) {
    if (!savedTunerEntry(layout, k, adapterName)) continue;
    const magnitude = `lora_magnitude_vector.${adapterName}.weight`;
    out.set(config.useDora && k.endsWith(magnitude) ? k.slice(0, -'.weight'.length) : k, v);
  }
  if (config.bias === 'all') {
    for (const [k, v] of ours) if (k === 'bias' || k.endsWith('.bias')) out.set(k, v);
  } else if (config.bias.endsWith('_only')) {
    for (const layer of layout.tunerLayers) {
      const k = `${layer}.base_layer.bias`;
      if (ours.has(k)) out.set(k, ours.get(k)!);
    }
  }

  for (const aux of layout.auxModules) {
    if (!aux.adapters.includes(adapterName)) continue;
    if (aux.kind === 'modules_to_save') {
      const inner = `${aux.name}.modules_to_save.${adapterName}.`;
      for (const [k, v] of ours) if (k.startsWith(inner)) out.set(`${aux.name}.${k.slice(inner.length)}`, v);
    } else if (!aux.tied) {
      const k = `${aux.name}.token_adapter.trainable_tokens_delta.${adapterName}`;
      if (ours.has(k)) out.set(`${aux.name}.token_adapter.trainable_tokens_delta`, ours.get(k)!);
    }
  }

  const targeted = embeddingIsTargeted(layout, config);
  let saveEmbeddings = options.saveEmbeddingLayers ?? 'auto';
  if (saveEmbeddings === 'auto') {
    if (targeted && config.trainableTokenIndices === null) {
      warn('Setting `save_embedding_layers` to `True` as embedding layers found in `target_modules`.');
      saveEmbeddings = true;
    } else if (options.vocabResized === true) {
      warn('Setting `save_embedding_layers` to `True` as the embedding layer has been resized during finetuning.');
      saveEmbeddings = true;
    } else {
      saveEmbeddings = false;
    }
  }
  if (saveEmbeddings) {
    for (const layer of [layout.inputEmbedding, layout.outputEmbedding]) {
      if (layer === null) continue;
      const isTuner = layout.tunerLayers.includes(layer);
      if (targeted && !isTuner) continue;
      const prefix = `${targeted ? `${layer}.base_layer` : layer}.`;
      for (const [k, v] of ours) if (k.startsWith(prefix)) out.set(k, v);
    }
  }

  return new Map([...out].map(([k, v]) => [removeAdapterNameFromKey(k, adapterName), v]));
}

export interface RemappedStateDict<V> {
  /** Values by model key, ready to copy into the model. */
  load: Map<string, V>;
  /** Checkpoint keys of modules the model does not have (an adapter for another architecture). */
  unknown: string[];
  /**
   * Checkpoint keys whose module exists but has no such entry; PEFT's load_state_dict(strict=False) skips
   * them silently (e.g. `classifier.modules_to_save.bias` that bias="all" saves next to modules_to_save).
   */
  skipped: string[];
  /** Model keys of this adapter that the checkpoint does not provide. */
  missing: string[];
}

/**
 * PEFT's set_peft_model_state_dict key translation: checkpoint keys (with or without the `base_model.model.`
 * prefix) mapped onto the model keys of adapter `adapterName`.
 */
export function remapAdapterStateDictForLoad<V>(
  layout: PeftStateLayout,
  modelKeys: Iterable<string>,
  checkpoint: ReadonlyMap<string, V>,
  adapterName: string,
): RemappedStateDict<V> {
  const own = new Set(modelKeys);
  const state = new Map(checkpoint);
  const adapterKeys = new Set<string>();

  for (const aux of layout.auxModules) {
    if (!aux.adapters.includes(adapterName)) continue;
    const pairs: [string, string][] = [];
    if (aux.kind === 'modules_to_save') {
      const inner = `${aux.name}.modules_to_save.${adapterName}.`;
      for (const k of own) if (k.startsWith(inner)) pairs.push([`${aux.name}.${k.slice(inner.length)}`, k]);
    } else if (!aux.tied) {
      const delta = `${aux.name}.token_adapter.trainable_tokens_delta`;
      pairs.push([delta, `${delta}.${adapterName}`]);
    }
    for (const [saved, modelKey] of pairs) {
      adapterKeys.add(modelKey);
      for (const k of [saved, `${PEFT_PREFIX}${saved}`]) {
        if (!state.has(k)) continue;
        state.set(modelKey, state.get(k)!);
        state.delete(k);
      }
    }
  }

  const toModelKey = new Map<string, string>();
  for (const k of own) {
    if (!savedTunerEntry(layout, k, adapterName)) continue;
    adapterKeys.add(k);
    const saved = removeAdapterNameFromKey(k, adapterName);
    toModelKey.set(saved, k);
    if (!k.startsWith(PEFT_PREFIX)) toModelKey.set(`${PEFT_PREFIX}${saved}`, k);
  }

  const stripPrefix = ![...own].some((k) => k.startsWith(PEFT_PREFIX));
  const load = new Map<string, V>();
  const unknown: string[] = [];
  const skipped: string[] = [];
  for (const [key, v] of state) {
    // DoRA magnitudes are saved without the `.weight` of their in-memory module (checkpoint format kept for BC).
    const renamed = key.endsWith('lora_magnitude_vector') ? `${key}.weight` : key;
    let target = toModelKey.get(renamed) ?? renamed;
    if (stripPrefix && target.startsWith(PEFT_PREFIX)) target = target.slice(PEFT_PREFIX.length);
    if (own.has(target)) {
      load.set(target, v);
      continue;
    }
    const parent = target.includes('.') ? target.slice(0, target.lastIndexOf('.')) : '';
    (layout.moduleNames.has(parent) ? skipped : unknown).push(key);
  }
  const missing = [...adapterKeys].filter((k) => !load.has(k));
  return { load, unknown, skipped, missing };
}

/**
 * PEFT's load_peft_weights for a resolved adapter folder: every tensor of adapter_model.safetensors, or of
 * adapter_model.bin when there is no safetensors file.
 */
export function loadPeftWeights(weights: AdapterFolder['weights']): Map<string, Tensor> {
  if (weights.format === 'safetensors') {
    const reader = SafetensorsFile.open(weights.file);
    try {
      return new Map(reader.keys().map((k) => [k, reader.readTensor(k)]));
    } finally {
      reader.close();
    }
  }
  const out = new Map<string, Tensor>();
  for (const [k, t] of loadTorchCheckpoint(weights.file)) {
    if (!('isTensor' in t)) {
      for (const v of out.values()) v.dispose();
      throw new AdapterWeightsError(weights.file, k, `'${k}' has dtype ${t.dtype}; adapter tensors must be float32, float16, bfloat16 or int32`);
    }
    out.set(k, t);
  }
  return out;
}

/** The module `fn` returns, by its name under `root`; null when there is none. */
function nameOf(root: Module, fn: (() => unknown) | undefined): string | null {
  const target = fn?.();
  if (target === null || target === undefined) return null;
  for (const [name, m] of root.namedModules()) if (m === target && name !== '') return name;
  return null;
}

/** The layout of a live module tree. `base` is the wrapped transformers model (for its embeddings). */
export function peftStateLayout(root: Module, base: Module): PeftStateLayout {
  const tunerLayers: string[] = [];
  const unsavedContainers = new Set<string>();
  const tuners: string[] = [];
  const auxModules: AuxModuleLayout[] = [];
  const moduleNames = new Set<string>();
  for (const [name, m] of root.namedModules()) {
    if (name === '') continue;
    moduleNames.add(name);
    if (m instanceof ModulesToSaveWrapper) {
      auxModules.push({ name, kind: 'modules_to_save', adapters: m.availableAdapters() });
    } else if (m instanceof TrainableTokensWrapper) {
      auxModules.push({ name, kind: 'trainable_tokens', adapters: m.availableAdapters(), tied: m.tokenAdapter.tiedAdapter !== null });
    } else if (m instanceof BaseTunerLayer && !auxModules.some((a) => name.startsWith(`${a.name}.`))) {
      tunerLayers.push(name);
      for (const c of m.unsavedContainerNames) unsavedContainers.add(`${name}.${c}`);
    } else if (m instanceof BaseTuner) {
      tuners.push(name);
    }
  }
  const embeddings = base as { getInputEmbeddings?: () => unknown; getOutputEmbeddings?: () => unknown };
  return {
    tunerLayers,
    unsavedContainers,
    tuners,
    auxModules,
    inputEmbedding: nameOf(root, embeddings.getInputEmbeddings?.bind(base)),
    outputEmbedding: nameOf(root, embeddings.getOutputEmbeddings?.bind(base)),
    moduleNames,
  };
}

/** The save settings of an adapter's config: LoRA's (and AdaLoRA's) own; other methods' bias mode, and no DoRA or trainable tokens. */
function stateDictConfigOf(configs: ReadonlyMap<string, PeftConfig>, adapterName: string): StateDictConfig & Pick<PeftConfig, 'baseModelNameOrPath'> {
  const config = configs.get(adapterName);
  if (config === undefined) throw new AdapterError(`no adapter named '${adapterName}' (adapters: ${[...configs.keys()].join(', ') || 'none'})`);
  if (config instanceof LoraSharedConfig) return config;
  const { targetModules = null, bias = 'none' } = config as Partial<Pick<StateDictConfig, 'targetModules' | 'bias'>>;
  return { bias, useDora: false, targetModules, trainableTokenIndices: null, baseModelNameOrPath: config.baseModelNameOrPath };
}

/** Whether the input embedding has a different number of rows than the base model's config.json says (local folders only). */
function vocabResized(config: Pick<PeftConfig, 'baseModelNameOrPath'>, layout: PeftStateLayout, state: ReadonlyMap<string, Tensor>): boolean {
  const dir = config.baseModelNameOrPath;
  if (dir === null || layout.inputEmbedding === null || !existsSync(join(dir, 'config.json'))) return false;
  const vocab = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vocab_size?: unknown }).vocab_size;
  const weight = state.get(`${layout.inputEmbedding}.weight`) ?? state.get(`${layout.inputEmbedding}.base_layer.weight`);
  return typeof vocab === 'number' && weight !== undefined && weight.shape[0] !== vocab;
}

/**
 * PEFT's get_peft_model_state_dict on a live model: adapter `adapterName`'s tensors (not copies, except the
 * triplets an AdaLoRA rank_pattern keeps) by checkpoint key. `root` is the module whose keys are saved (a PeftModel, or a model with adapters injected directly).
 */
export function getPeftModelStateDict(
  root: Module,
  base: Module,
  configs: ReadonlyMap<string, PeftConfig>,
  adapterName: string,
  options: { saveEmbeddingLayers?: boolean | 'auto' } = {},
): Map<string, Tensor> {
  const config = stateDictConfigOf(configs, adapterName);
  const layout = peftStateLayout(root, base);
  const state = root.stateDict();
  const selected = selectAdapterStateDict(layout, state, config, adapterName, {
    adapterNames: [...configs.keys()],
    saveEmbeddingLayers: options.saveEmbeddingLayers,
    vocabResized: vocabResized(config, layout, state),
  });
  if (config instanceof AdaLoraConfig && config.rankPattern !== null) {
    // As PEFT, the config keeps the pattern without the adapter name from now on: that is what gets saved.
    config.rankPattern = stripAdapterName(config.rankPattern, adapterName);
    const baseName = nameOf(root, () => base);
    resizeStateDictByRankPattern(selected, config.rankPattern, adapterName, baseName === null ? '' : `${baseName}.`);
  }
  return selected;
}

function listKeys(keys: readonly string[], limit = 5): string {
  const shown = keys.slice(0, limit).map((k) => `'${k}'`).join(', ');
  return keys.length > limit ? `${shown}, … (${keys.length} in all)` : shown;
}

/** Adapter `adapterName` of a model: the root module (the PeftModel), its base model and the adapters' configs. */
export interface AdapterTarget {
  root: Module;
  base: Module;
  configs: ReadonlyMap<string, PeftConfig>;
  adapterName: string;
}

/**
 * The key translation of PEFT's set_peft_model_state_dict for a live model, checked: checkpoint keys of modules
 * the model lacks and shape mismatches raise (naming `file`); keys of existing modules without such an entry
 * are skipped, as PEFT's non-strict load does. Nothing is loaded.
 */
function checkedAdapterCheckpoint({ root, base, configs, adapterName }: AdapterTarget, weights: ReadonlyMap<string, Tensor>, file: string | undefined): RemappedStateDict<Tensor> {
  const config = stateDictConfigOf(configs, adapterName);
  const own = root.stateDict();
  const r = remapAdapterStateDictForLoad(peftStateLayout(root, base), own.keys(), weights, adapterName);
  if (r.unknown.length > 0) {
    throw new AdapterWeightsError(
      file,
      r.unknown[0],
      `${r.unknown.length} key(s) name modules this ${base.typeName} does not have: ${listKeys(r.unknown)}; the adapter was probably made for ` +
        `another architecture${config.baseModelNameOrPath === null ? '' : ` (its base model: ${config.baseModelNameOrPath})`}`,
    );
  }
  const mismatched = [...r.load].filter(([k, t]) => !sameShape(own.get(k)!.shape, t.shape));
  if (mismatched.length > 0) {
    const detail = mismatched.map(([k, t]) => `'${k}': checkpoint ${formatShape(t.shape)} vs model ${formatShape(own.get(k)!.shape)}`);
    throw new AdapterWeightsError(
      file,
      mismatched[0]![0],
      `size mismatch for ${detail.length} key(s) of adapter '${adapterName}': ${detail.slice(0, 5).join('; ')}${detail.length > 5 ? '; …' : ''}`,
    );
  }
  return r;
}

/**
 * PEFT's set_peft_model_state_dict on a live model: copies checkpoint tensors into adapter `adapterName`, after
 * shrinking AdaLoRA layers to the ranks of the config's rank_pattern.
 * Keys of modules the model lacks and shape mismatches raise (naming `file`); keys of existing modules
 * without such an entry are skipped, as PEFT's non-strict load does; adapter keys the checkpoint lacks
 * are warned about and returned.
 */
export function setPeftModelStateDict(target: AdapterTarget, weights: ReadonlyMap<string, Tensor>, file?: string): { missingKeys: string[] } {
  const config = target.configs.get(target.adapterName);
  if (config instanceof AdaLoraConfig && config.rankPattern !== null) resizeModulesByRankPattern(target.base, config.rankPattern, target.adapterName, config);
  const r = checkedAdapterCheckpoint(target, weights, file);
  target.root.loadStateDict(r.load, { strict: false });
  if (r.missing.length > 0) warn(`Found missing adapter keys while loading the checkpoint: ${JSON.stringify(r.missing)}`);
  return { missingKeys: r.missing };
}

/**
 * A checkpoint read as adapter `adapterName` would load it (checked as setPeftModelStateDict checks it, nothing
 * loaded), keyed as getPeftModelStateDict keys that adapter's own tensors.
 */
export function adapterCheckpointBySavedKey(target: AdapterTarget, weights: ReadonlyMap<string, Tensor>, file?: string): Map<string, Tensor> {
  const r = checkedAdapterCheckpoint(target, weights, file);
  return new Map([...r.load].map(([k, t]) => [removeAdapterNameFromKey(k, target.adapterName), t]));
}
