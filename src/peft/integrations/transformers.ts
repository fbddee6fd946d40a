// Adapters on a transformers-style model without a PeftModel wrapper (transformers' PeftAdapterMixin:
// model.add_adapter / load_adapter / set_adapter / …). The adapter layers are injected into the model itself,
// so its state-dict keys have no `base_model.model.` prefix; adapter files are the same as PeftModel's.
import { resolveAdapterFolder } from '../../io/adapter-folder.js';
import type { SourceOptions } from '../../io/file-source.js';
import type { Tensor } from '../../engine/tensor.js';
import type { PreTrainedModel } from '../../models/pretrained.js';
import { PeftConfig } from '../config.js';
import { AdapterError, ConfigError } from '../errors.js';
import { LoraConfig } from '../tuners/lora/config.js';
import { LoraModel } from '../tuners/lora/model.js';
import { getPeftModelStateDict, loadPeftWeights, setPeftModelStateDict } from '../utils/save-and-load.js';

const tuners = new WeakMap<PreTrainedModel, LoraModel>();

function tunerOf(model: PreTrainedModel): LoraModel {
  const tuner = tuners.get(model);
  if (tuner === undefined) throw new AdapterError(`${model.typeName} has no adapter loaded; add or load one first`);
  return tuner;
}

function checkNames(model: PreTrainedModel, names: readonly string[]): void {
  const configs = tunerOf(model).peftConfig;
  const missing = names.filter((n) => !configs.has(n));
  if (missing.length > 0) throw new AdapterError(`adapter(s) ${missing.join(', ')} not found (adapters: ${[...configs.keys()].join(', ')})`);
}

/** Injects an adapter (PEFT's inject_adapter_in_model); the first one is active, later ones are added inactive. */
function inject(model: PreTrainedModel, config: PeftConfig, adapterName: string): LoraModel {
  if (!(config instanceof LoraConfig)) throw new ConfigError('peft_type', `is ${config.peftType}; only LORA adapters can be injected`);
  const existing = tuners.get(model);
  if (existing !== undefined) {
    existing.addAdapter(adapterName, config);
    return existing;
  }
  const tuner = new LoraModel(model, config, adapterName);
  tuners.set(model, tuner);
  return tuner;
}

/** The adapter configs of the model by name (empty when it has none). */
export function peftConfigOf(model: PreTrainedModel): Map<string, LoraConfig> {
  return tuners.get(model)?.peftConfig ?? new Map();
}

/** transformers' add_adapter: records the model's name_or_path in the config, injects and activates the adapter. */
export function addAdapter(model: PreTrainedModel, config: PeftConfig, adapterName = 'default'): void {
  config.baseModelNameOrPath = model.nameOrPath || null;
  inject(model, config, adapterName);
  setAdapter(model, adapterName);
}

export interface LoadAdapterIntoModelOptions extends SourceOptions {
  adapterName?: string;
  /** Leave the adapter trainable (default false: frozen, model in eval mode). */
  isTrainable?: boolean;
}

/** transformers' load_adapter: reads a PEFT adapter folder or Hub repo into the model. */
export async function loadAdapter(model: PreTrainedModel, pathOrRepoId: string, options: LoadAdapterIntoModelOptions = {}): Promise<void> {
  const { adapterName = 'default', isTrainable = false, ...source } = options;
  const folder = await resolveAdapterFolder(pathOrRepoId, source);
  const config = PeftConfig.fromJSON(folder.config, { source: folder.configPath });
  config.inferenceMode = !isTrainable;
  const tuner = inject(model, config, adapterName);
  const weights = loadPeftWeights(folder.weights);
  try {
    setPeftModelStateDict({ root: model, base: model, configs: tuner.peftConfig, adapterName }, weights, folder.weights.file);
  } finally {
    for (const t of weights.values()) t.dispose();
  }
  if (!isTrainable) {
    model.eval();
    model.requiresGrad(false);
  }
}

/** Activates one adapter or several (their outputs are summed). */
export function setAdapter(model: PreTrainedModel, adapterName: string | string[]): void {
  checkNames(model, typeof adapterName === 'string' ? [adapterName] : adapterName);
  tunerOf(model).setAdapter(adapterName);
}

export function activeAdapters(model: PreTrainedModel): readonly string[] {
  return tunerOf(model).activeAdapters;
}

export function enableAdapters(model: PreTrainedModel): void {
  tunerOf(model).enableAdapterLayers();
}

export function disableAdapters(model: PreTrainedModel): void {
  tunerOf(model).disableAdapterLayers();
}

export function deleteAdapter(model: PreTrainedModel, adapterNames: string | string[]): void {
  const names = typeof adapterNames === 'string' ? [adapterNames] : adapterNames;
  checkNames(model, names);
  const tuner = tunerOf(model);
  for (const name of names) tuner.deleteAdapter(name);
  if (tuner.peftConfig.size === 0) tuners.delete(model);
}

/** The tensors an adapter saves (default: the first active one), keys without `base_model.model.`. */
export function getAdapterStateDict(model: PreTrainedModel, adapterName?: string): Map<string, Tensor> {
  const tuner = tunerOf(model);
  const name = adapterName ?? tuner.activeAdapters[0];
  if (name === undefined) throw new AdapterError(`${model.typeName} has no active adapter; pass adapterName`);
  return getPeftModelStateDict(model, model, tuner.peftConfig, name);
}
