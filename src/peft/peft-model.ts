// PeftModel and its task classes (PEFT's peft_model.py): a model with adapters injected by a tuner
// (LoraModel), held as `base_model` so that state-dict keys read `base_model.model.<path>`; forward passes
// through; adapters are saved and loaded in PEFT's format (adapter_config.json + adapter_model.safetensors,
// the "default" adapter at the top level, any other in a subfolder of its name).
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../engine/tensor.js';
import { resolveAdapterFolder, type AdapterFolder } from '../io/adapter-folder.js';
import type { SourceOptions } from '../io/file-source.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import type { ModelInputs, ModelOutput } from '../models/outputs.js';
import { PreTrainedModel } from '../models/pretrained.js';
import { Module } from '../nn/module.js';
import { PeftConfig, type SaveOptions } from './config.js';
import { AdapterError, ConfigError } from './errors.js';
import { BaseTunerLayer, type MergeOptions } from './tuners/base-tuner-layer.js';
import { LoraConfig } from './tuners/lora/config.js';
import { LoraModel } from './tuners/lora/model.js';
import { TaskType } from './utils/peft-types.js';
import { formatFixed, formatThousands } from './utils/python-format.js';
import { getPeftModelStateDict, loadPeftWeights, SAFETENSORS_WEIGHTS_NAME, setPeftModelStateDict } from './utils/save-and-load.js';
import { AuxiliaryTrainingWrapper, setTrainable } from './utils/wrappers.js';

export interface PeftForwardInputs extends ModelInputs {
  /** One adapter name per batch row ("__base__" for none): a mixed batch, as PEFT's `adapter_names`. */
  adapterNames?: string[];
}

interface ForwardModule {
  forward(inputs: ModelInputs): ModelOutput;
}

export interface SavePretrainedOptions {
  /** Adapters to save (default: all). */
  selectedAdapters?: string[];
  /** Save the full embedding weights too; 'auto' as PEFT (when an embedding is targeted or was resized). */
  saveEmbeddingLayers?: boolean | 'auto';
}

/** Where the adapter comes from (`subfolder`, `revision`, `cacheDir`, `token`, … for Hub ids) and how it is loaded. */
export interface LoadAdapterOptions extends SourceOptions {
  /** Leave the adapter trainable (default false: frozen, model in eval mode). */
  isTrainable?: boolean;
}

export interface PeftFromPretrainedOptions extends LoadAdapterOptions {
  adapterName?: string;
  /** Use this config instead of the folder's adapter_config.json. */
  config?: PeftConfig;
}

/** PEFT's print_trainable_parameters line. */
export function formatTrainableParameters(trainable: number, all: number): string {
  return `trainable params: ${formatThousands(trainable)} || all params: ${formatThousands(all)} || trainable%: ${formatFixed((100 * trainable) / all, 4)}`;
}

/** The transformers `model_type` of a model, when it is one. */
function modelTypeOf(model: Module): string | undefined {
  return model instanceof PreTrainedModel ? model.config.modelType : undefined;
}

/** The model's `name_or_path`, recorded as base_model_name_or_path. */
export function nameOrPathOf(model: Module): string | null {
  return model instanceof PreTrainedModel ? model.nameOrPath || null : null;
}

/** PEFT records the base class for configs without a task type (AutoPeftModel uses it). */
function autoMappingOf(model: Module): NonNullable<SaveOptions['autoMapping']> {
  const modelType = modelTypeOf(model);
  const parentLibrary = modelType === undefined ? 'peftjs' : `transformers.models.${modelType.replace(/-/g, '_')}.modeling_${modelType.replace(/-/g, '_')}`;
  return { baseModelClass: model.typeName, parentLibrary };
}

/** Appends task-head names to a config's modules_to_save, as PEFT's task classes do (duplicates included). */
function extendModulesToSave(config: LoraConfig, names: readonly string[]): void {
  config.modulesToSave = [...(config.modulesToSave ?? []), ...names];
}

/** The LoRA config of an adapter; other methods are not implemented. */
function loraConfig(config: PeftConfig): LoraConfig {
  if (!(config instanceof LoraConfig)) throw new ConfigError('peft_type', `is ${config.peftType}; PeftModel supports LORA adapters only`);
  return config;
}

function sourceOptions(options: PeftFromPretrainedOptions): SourceOptions {
  const { isTrainable: _t, adapterName: _a, config: _c, ...source } = options;
  return source;
}

export class PeftModel extends Module {
  /** The tuner holding the adapted model (`base_model`; the model itself is `base_model.model`). */
  readonly baseModel: LoraModel;
  /** The adapter forward uses (PEFT's `active_adapter`). */
  activeAdapter: string;

  constructor(model: Module, config: PeftConfig, adapterName = 'default') {
    super();
    const lora = loraConfig(config);
    this.addHeadModules(lora, 'before');
    this.activeAdapter = adapterName;
    this.baseModel = this.registerModule('base_model', new LoraModel(model, lora, adapterName));
    this.addHeadModules(lora, 'after');
    if (this.headModules !== null) {
      setTrainable(model, adapterName, lora.modulesToSave ?? [], { inferenceMode: lora.inferenceMode, activate: true });
    }
  }

  /** Task heads trained and saved with every adapter, and whether they join modules_to_save before or after injection. */
  protected get headModules(): { names: readonly string[]; when: 'before' | 'after' } | null {
    return null;
  }

  private addHeadModules(config: LoraConfig, when: 'before' | 'after'): void {
    const head = this.headModules;
    if (head !== null && head.when === when) extendModulesToSave(config, head.names);
  }

  get peftConfig(): Map<string, LoraConfig> {
    return this.baseModel.peftConfig;
  }

  get activeAdapters(): readonly string[] {
    return this.baseModel.activeAdapters;
  }

  get activePeftConfig(): LoraConfig {
    return this.peftConfig.get(this.activeAdapter)!;
  }

  /** The adapted model (with its adapter layers), e.g. a LlamaForCausalLM. */
  getBaseModel(): Module {
    return this.baseModel.model;
  }

  forward(inputs: PeftForwardInputs): ModelOutput {
    const { adapterNames, ...rest } = inputs;
    const model = this.getBaseModel() as Module & Partial<ForwardModule>;
    if (typeof model.forward !== 'function') throw new AdapterError(`${model.typeName} has no forward(inputs) to call`);
    if (adapterNames === undefined) return model.forward(rest);
    return this.baseModel.withAdapterNames(adapterNames, () => model.forward!(rest));
  }

  /** Adds an adapter (not activated, frozen); task classes add their heads to its modules_to_save. */
  addAdapter(adapterName: string, config: PeftConfig): void {
    if (this.peftConfig.has(adapterName)) throw new AdapterError(`an adapter named '${adapterName}' already exists`);
    const lora = loraConfig(config);
    if (this.headModules !== null) extendModulesToSave(lora, this.headModules.names);
    this.baseModel.addAdapter(adapterName, lora);
  }

  /** Activates one adapter; it becomes trainable unless `inferenceMode` (as PEFT's set_adapter). */
  setAdapter(adapterName: string, options: { inferenceMode?: boolean } = {}): void {
    if (!this.peftConfig.has(adapterName)) throw new AdapterError(`adapter '${adapterName}' not found (adapters: ${[...this.peftConfig.keys()].join(', ')})`);
    this.baseModel.setAdapter(adapterName, options);
    this.activeAdapter = adapterName;
  }

  deleteAdapter(adapterName: string): void {
    if (!this.peftConfig.has(adapterName)) throw new AdapterError(`adapter '${adapterName}' not found (adapters: ${[...this.peftConfig.keys()].join(', ')})`);
    this.baseModel.deleteAdapter(adapterName);
    this.activeAdapter = this.baseModel.activeAdapters[0] ?? this.activeAdapter;
  }

  /** Runs fn with the adapters disabled (PEFT's `with model.disable_adapter():`). */
  disableAdapter<T>(fn: () => T): T {
    return this.baseModel.withDisabledAdapters(fn);
  }

  mergeAdapter(adapterNames?: readonly string[], options: { safeMerge?: boolean } = {}): void {
    this.baseModel.mergeAdapter(adapterNames, options);
  }

  unmergeAdapter(): void {
    this.baseModel.unmergeAdapter();
  }

  /** Merges the adapters into the base weights and returns the model without adapter layers. */
  mergeAndUnload(options: MergeOptions = {}): Module {
    return this.baseModel.mergeAndUnload(options);
  }

  /** Returns the model without adapter layers, base weights unchanged. */
  unload(): Module {
    return this.baseModel.unload();
  }

  /** Trainable and total parameter counts (tied weights once). */
  getNbTrainableParameters(): { trainable: number; all: number } {
    return this.baseModel.getNbTrainableParameters();
  }

  /** Prints e.g. `trainable params: 294,912 || all params: 124,734,720 || trainable%: 0.2364`. */
  printTrainableParameters(): void {
    const { trainable, all } = this.getNbTrainableParameters();
    console.log(formatTrainableParameters(trainable, all));
  }

  /** The tensors adapter `adapterName` saves, by checkpoint key (the live tensors, not copies). */
  getAdapterStateDict(adapterName = this.activeAdapter, options: Pick<SavePretrainedOptions, 'saveEmbeddingLayers'> = {}): Map<string, Tensor> {
    return getPeftModelStateDict(this, this.getBaseModel(), this.peftConfig, adapterName, options);
  }

  /**
   * Writes each adapter as PEFT does: `<dir>` for "default", `<dir>/<name>` for the others, each with
   * adapter_model.safetensors (metadata {"format": "pt"}) and adapter_config.json (inference_mode true,
   * base_model_name_or_path filled from the model when unset).
   */
  savePretrained(dir: string, options: SavePretrainedOptions = {}): void {
    let isFile = false;
    try {
      isFile = statSync(dir).isFile();
    } catch {
      // created below
    }
    if (isFile) throw new AdapterError(`cannot save adapters to ${dir}: it is a file, expected a folder`);
    const selected = options.selectedAdapters ?? [...this.peftConfig.keys()];
    const unknown = selected.filter((a) => !this.peftConfig.has(a));
    if (unknown.length > 0) throw new AdapterError(`cannot save unknown adapter(s) ${unknown.join(', ')} (adapters: ${[...this.peftConfig.keys()].join(', ')})`);
    const base = this.getBaseModel();
    for (const adapterName of selected) {
      const state = this.getAdapterStateDict(adapterName, options);
      const outDir = adapterName === 'default' ? dir : join(dir, adapterName);
      mkdirSync(outDir, { recursive: true });
      saveSafetensors(join(outDir, SAFETENSORS_WEIGHTS_NAME), Object.fromEntries(state), { format: 'pt' });
      const config = this.peftConfig.get(adapterName)!;
      config.baseModelNameOrPath ??= nameOrPathOf(base);
      config.save(outDir, config.taskType === null ? { autoMapping: autoMappingOf(base) } : {});
    }
  }

  /**
   * Loads adapter weights into adapter `adapterName`, adding the adapter (not activated) from the folder's
   * adapter_config.json when the model does not have it yet. `pathOrRepoId` is a local folder or a Hub id.
   */
  async loadAdapter(pathOrRepoId: string, adapterName: string, options: LoadAdapterOptions = {}): Promise<void> {
    const folder = await resolveAdapterFolder(pathOrRepoId, sourceOptions(options));
    this.loadAdapterFolder(folder, adapterName, options.isTrainable ?? false);
  }

  private loadAdapterFolder(folder: AdapterFolder, adapterName: string, isTrainable: boolean): void {
    if (!this.peftConfig.has(adapterName)) {
      const config = PeftConfig.fromJSON(folder.config, { source: folder.configPath });
      config.inferenceMode = !isTrainable;
      this.addAdapter(adapterName, config);
      if (isTrainable) this.setRequiresGrad(adapterName, true);
    }
    const weights = loadPeftWeights(folder.weights);
    try {
      setPeftModelStateDict(this, this.getBaseModel(), this.peftConfig, weights, adapterName, folder.weights.file);
    } finally {
      for (const t of weights.values()) t.dispose();
    }
    if (!isTrainable) this.eval();
  }

  /** Sets requiresGrad on the weights of the named adapters (adapter layers and wrappers). */
  setRequiresGrad(adapterNames: string | readonly string[], requiresGrad = true): void {
    for (const [, m] of this.namedModules()) {
      if (m instanceof BaseTunerLayer || m instanceof AuxiliaryTrainingWrapper) m.setRequiresGrad(adapterNames, requiresGrad);
    }
  }

  /**
   * PEFT's PeftModel.from_pretrained: wraps `model` in the class of the adapter's task type (this class when it
   * has none) and loads the adapter from a folder or Hub repo. Frozen and in eval mode unless `isTrainable`.
   */
  static async fromPretrained(model: Module, pathOrRepoId: string, options: PeftFromPretrainedOptions = {}): Promise<PeftModel> {
    const { adapterName = 'default', isTrainable = false } = options;
    const folder = await resolveAdapterFolder(pathOrRepoId, sourceOptions(options));
    const config = options.config ?? PeftConfig.fromJSON(folder.config, { source: folder.configPath });
    config.inferenceMode = !isTrainable;
    const Cls = (config.taskType === null ? undefined : MODEL_TYPE_TO_PEFT_MODEL_MAPPING[config.taskType]) ?? this;
    const peft = new Cls(model, config, adapterName);
    if (!isTrainable) peft.requiresGrad(false);
    peft.loadAdapterFolder(folder, adapterName, isTrainable);
    return peft;
  }
}

export class PeftModelForCausalLM extends PeftModel {}

export class PeftModelForSeq2SeqLM extends PeftModel {}

export class PeftModelForFeatureExtraction extends PeftModel {}

/** The classification head (`classifier` or `score`) is trained and saved; it joins modules_to_save before injection. */
export class PeftModelForSequenceClassification extends PeftModel {
  protected override get headModules(): { names: readonly string[]; when: 'before' | 'after' } {
    return { names: ['classifier', 'score'], when: 'before' };
  }
}

/** Like sequence classification, but the head joins modules_to_save after injection (so LoRA targeting ignores it). */
export class PeftModelForTokenClassification extends PeftModel {
  protected override get headModules(): { names: readonly string[]; when: 'before' | 'after' } {
    return { names: ['classifier', 'score'], when: 'after' };
  }
}

export class PeftModelForQuestionAnswering extends PeftModel {
  protected override get headModules(): { names: readonly string[]; when: 'before' | 'after' } {
    return { names: ['qa_outputs'], when: 'after' };
  }
}

/** The PeftModel class for each task type (PEFT's MODEL_TYPE_TO_PEFT_MODEL_MAPPING). */
export const MODEL_TYPE_TO_PEFT_MODEL_MAPPING: Readonly<Record<TaskType, typeof PeftModel>> = {
  [TaskType.SEQ_CLS]: PeftModelForSequenceClassification,
  [TaskType.SEQ_2_SEQ_LM]: PeftModelForSeq2SeqLM,
  [TaskType.CAUSAL_LM]: PeftModelForCausalLM,
  [TaskType.TOKEN_CLS]: PeftModelForTokenClassification,
  [TaskType.QUESTION_ANS]: PeftModelForQuestionAnswering,
  [TaskType.FEATURE_EXTRACTION]: PeftModelForFeatureExtraction,
};
