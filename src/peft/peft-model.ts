// PeftModel and its task classes (PEFT's peft_model.py): a model with adapters injected by a tuner (LoraModel,
// AdaLoraModel, IA3Model, LoHaModel, LoKrModel, VeraModel, OFTModel,
// LNTuningModel, HRAModel, BOFTModel, VBLoRAModel, AdaptionPromptModel, FourierFTModel, MissModel, RandLoraModel, ShiraModel), held as `base_model` so that state-dict keys read
// `base_model.model.<path>`, or — for prompt tuning, p-tuning and prefix tuning — the model itself as `base_model`
// beside its prompt encoders, with the task's input handling (src/peft/prompt-learning.ts). Adapters are saved and loaded in PEFT's format (adapter_config.json +
// adapter_model.safetensors, the "default" adapter at the top level, any other in a subfolder of its name).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../engine/tensor.js';
import type { DecodingSession } from '../generate/sessions.js';
import { resolveAdapterFolder, type AdapterFolder } from '../io/adapter-folder.js';
import { commitFiles } from '../io/atomic-folder.js';
import type { SourceOptions } from '../io/file-source.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import type { ModelInputs, ModelOutput } from '../models/outputs.js';
import { PreTrainedModel } from '../models/pretrained.js';
import { Module } from '../nn/module.js';
import { PeftConfig, PromptLearningConfig, type SaveOptions } from './config.js';
import { AdapterError, ConfigError, UnsupportedError } from './errors.js';
import { PromptLearning, type PromptLearningOptions } from './prompt-learning.js';
import type { BaseTuner, TunerConfig } from './tuners/base-tuner.js';
import { BaseTunerLayer, type MergeOptions } from './tuners/base-tuner-layer.js';
import { AdaLoraConfig } from './tuners/adalora/config.js';
import { AdaLoraModel } from './tuners/adalora/model.js';
import { IA3Config } from './tuners/ia3/config.js';
import { IA3Model } from './tuners/ia3/model.js';
import { LNTuningConfig } from './tuners/ln-tuning/config.js';
import { LNTuningModel } from './tuners/ln-tuning/model.js';
import { LoHaConfig } from './tuners/loha/config.js';
import { LoHaModel } from './tuners/loha/model.js';
import { LoKrConfig } from './tuners/lokr/config.js';
import { LoKrModel } from './tuners/lokr/model.js';
import { LoraConfig } from './tuners/lora/config.js';
import { LoraModel } from './tuners/lora/model.js';
import { OFTConfig } from './tuners/oft/config.js';
import { OFTModel } from './tuners/oft/model.js';
import { BOFTConfig } from './tuners/boft/config.js';
import { BOFTModel } from './tuners/boft/model.js';
import { VeraConfig } from './tuners/vera/config.js';
import { VeraModel } from './tuners/vera/model.js';
import { RandLoraConfig } from './tuners/randlora/config.js';
import { RandLoraModel } from './tuners/randlora/model.js';
import { HRAConfig } from './tuners/hra/config.js';
import { HRAModel } from './tuners/hra/model.js';
import { VBLoRAConfig } from './tuners/vblora/config.js';
import { VBLoRAModel } from './tuners/vblora/model.js';
import { AdaptionPromptConfig } from './tuners/adaption-prompt/config.js';
import { AdaptionPromptModel } from './tuners/adaption-prompt/model.js';
import { FourierFTConfig } from './tuners/fourierft/config.js';
import { FourierFTModel } from './tuners/fourierft/model.js';
import { MissConfig } from './tuners/miss/config.js';
import { MissModel } from './tuners/miss/model.js';
import { ShiraConfig } from './tuners/shira/config.js';
import { ShiraModel } from './tuners/shira/model.js';
import { NON_DEFAULT_PEFT_PREFIXES } from './utils/constants.js';
import { TaskType } from './utils/peft-types.js';
import { formatFixed, formatThousands } from './utils/python-format.js';
import { checkConvertible, convertedAdapterConfig, initialAdapterConfig, readInitialAdapter, subtractMutatedInit } from './tuners/lora/weight-conversion.js';
import {
  adapterCheckpointBySavedKey,
  getPeftModelStateDict,
  loadPeftWeights,
  SAFETENSORS_WEIGHTS_NAME,
  setPeftModelStateDict,
} from './utils/save-and-load.js';
import { countParameters } from './utils/other.js';
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
  /**
   * PiSSA / OLoRA: the folder the adapter was saved to right after its creation. Each adapter is then saved as a
   * plain LoRA of twice the rank that applies to the original base weights (PEFT's
   * path_initial_model_for_weight_conversion); the folder's adapter_config.json is rewritten with
   * init_lora_weights true, as PEFT does.
   */
  pathInitialModelForWeightConversion?: string;
}

/** Where the adapter comes from (`subfolder`, `revision`, `cacheDir`, `token`, … for Hub ids) and how it is loaded. */
export interface LoadAdapterOptions extends SourceOptions, PromptLearningOptions {
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

/** An adapter config PeftModel runs. */
export type AdapterConfig = LoraConfig | AdaLoraConfig | IA3Config | LoHaConfig | LoKrConfig | VeraConfig | OFTConfig | LNTuningConfig | HRAConfig | BOFTConfig | VBLoRAConfig | AdaptionPromptConfig | FourierFTConfig | MissConfig | RandLoraConfig | ShiraConfig | PromptLearningConfig;

/** A tuner that injects adapter layers (PEFT_TYPE_TO_TUNER_MAPPING for the injected methods). */
type Tuner = LoraModel | AdaLoraModel | IA3Model | LoHaModel | LoKrModel | VeraModel | OFTModel | LNTuningModel | HRAModel | BOFTModel | VBLoRAModel | AdaptionPromptModel | FourierFTModel | MissModel | RandLoraModel | ShiraModel;

/** The tuner that injects the first adapter of an injected method. */
function createTuner(model: Module, config: Exclude<AdapterConfig, PromptLearningConfig>, adapterName: string): Tuner {
  if (config instanceof IA3Config) return new IA3Model(model, config, adapterName);
  if (config instanceof AdaLoraConfig) return new AdaLoraModel(model, config, adapterName);
  if (config instanceof LoHaConfig) return new LoHaModel(model, config, adapterName);
  if (config instanceof LoKrConfig) return new LoKrModel(model, config, adapterName);
  if (config instanceof VeraConfig) return new VeraModel(model, config, adapterName);
  if (config instanceof OFTConfig) return new OFTModel(model, config, adapterName);
  if (config instanceof LNTuningConfig) return new LNTuningModel(model, config, adapterName);
  if (config instanceof HRAConfig) return new HRAModel(model, config, adapterName);
  if (config instanceof BOFTConfig) return new BOFTModel(model, config, adapterName);
  if (config instanceof VBLoRAConfig) return new VBLoRAModel(model, config, adapterName);
  if (config instanceof AdaptionPromptConfig) return new AdaptionPromptModel(model, config, adapterName);
  if (config instanceof FourierFTConfig) return new FourierFTModel(model, config, adapterName);
  if (config instanceof MissConfig) return new MissModel(model, config, adapterName);
  if (config instanceof RandLoraConfig) return new RandLoraModel(model, config, adapterName);
  if (config instanceof ShiraConfig) return new ShiraModel(model, config, adapterName);
  return new LoraModel(model, config, adapterName);
}

/** Appends task-head names to a config's modules_to_save, as PEFT's task classes do (duplicates included). */
function extendModulesToSave(config: AdapterConfig, names: readonly string[]): void {
  config.modulesToSave = [...(config.modulesToSave ?? []), ...names];
}

function adapterConfig(config: PeftConfig): AdapterConfig {
  if (
    config instanceof LoraConfig ||
    config instanceof AdaLoraConfig ||
    config instanceof IA3Config ||
    config instanceof LoHaConfig ||
    config instanceof LoKrConfig ||
    config instanceof VeraConfig ||
    config instanceof OFTConfig ||
    config instanceof LNTuningConfig ||
    config instanceof HRAConfig ||
    config instanceof BOFTConfig ||
    config instanceof VBLoRAConfig ||
    config instanceof AdaptionPromptConfig ||
    config instanceof FourierFTConfig ||
    config instanceof MissConfig ||
    config instanceof RandLoraConfig ||
    config instanceof ShiraConfig ||
    config instanceof PromptLearningConfig
  ) {
    return config;
  }
  throw new ConfigError('peft_type', `is ${config.peftType}; PeftModel supports LORA, ADALORA, IA3, LOHA, LOKR, VERA, OFT, LN_TUNING, HRA, BOFT, VBLORA, ADAPTION_PROMPT, FOURIERFT, MISS, RANDLORA, SHIRA, PROMPT_TUNING, P_TUNING and PREFIX_TUNING adapters`);
}

/** The parameter-name prefix of a method (PEFT_TYPE_TO_PREFIX_MAPPING): an adapter name inside it confuses loading. */
export function peftPrefixOf(config: PeftConfig): string | null {
  if (config.peftType === null) return null;
  return NON_DEFAULT_PEFT_PREFIXES[config.peftType] ?? `${config.peftType.toLowerCase()}_`;
}

function sourceOptions(options: PeftFromPretrainedOptions): SourceOptions {
  const { isTrainable: _t, adapterName: _a, config: _c, tokenizer: _k, generator: _g, ...source } = options;
  return source;
}

export class PeftModel extends Module {
  /** The tuner that injected the adapter layers; null for prompt learning. */
  private readonly tuner: Tuner | null = null;
  /** The prompt-learning adapters; null for injected methods. */
  private readonly prompt: PromptLearning | null = null;
  /** The adapter forward uses (PEFT's `active_adapter`). */
  activeAdapter: string;

  /** `options`: the tokenizer for prompt tuning's TEXT init, a generator for new prompt encoders. */
  constructor(model: Module, config: PeftConfig, adapterName = 'default', options: PromptLearningOptions = {}) {
    super();
    const first = adapterConfig(config);
    this.addHeadModules(first, 'before');
    this.activeAdapter = adapterName;
    if (first instanceof PromptLearningConfig) {
      if (first.taskType === null) throw new ConfigError('task_type', 'must be set for prompt learning (the task decides how prompts enter the model)');
      if (!(model instanceof PreTrainedModel)) throw new UnsupportedError(`prompt learning needs a transformers-style model, got a ${model.typeName}`);
      this.prompt = new PromptLearning(this, model, first.taskType);
      // PEFT's constructor adds prompt-learning adapters through add_adapter, so task classes add their heads twice.
      this.addAdapter(adapterName, first, options);
    } else {
      this.tuner = this.registerModule('base_model', createTuner(model, first, adapterName));
    }
    this.addHeadModules(first, 'after');
    if (this.tuner !== null && this.headModules !== null) {
      setTrainable(model, adapterName, first.modulesToSave ?? [], { inferenceMode: first.inferenceMode, activate: true });
    }
  }

  /** Task heads trained and saved with every adapter, and whether they join modules_to_save before or after injection. */
  protected get headModules(): { names: readonly string[]; when: 'before' | 'after' } | null {
    return null;
  }

  private addHeadModules(config: AdapterConfig, when: 'before' | 'after'): void {
    const head = this.headModules;
    if (head !== null && head.when === when) extendModulesToSave(config, head.names);
  }

  /** PEFT's base_model: the tuner (whose `model` is the adapted model), or for prompt learning the model itself. */
  get baseModel(): Module {
    return this.child('base_model');
  }

  /** The tuner, for operations on injected layers; prompt learning has none. */
  private injected(operation: string): Tuner {
    if (this.tuner === null) throw new UnsupportedError(`${operation} is not available for prompt learning (${this.activePeftConfig.peftType}), which adds no layers to the model`);
    return this.tuner;
  }

  get peftConfig(): ReadonlyMap<string, AdapterConfig> {
    return (this.prompt ?? this.tuner!).peftConfig;
  }

  get activeAdapters(): readonly string[] {
    return this.tuner?.activeAdapters ?? [this.activeAdapter];
  }

  get activePeftConfig(): AdapterConfig {
    return this.peftConfig.get(this.activeAdapter)!;
  }

  /** The adapted model (with its adapter layers), e.g. a LlamaForCausalLM. */
  getBaseModel(): Module {
    return this.prompt?.model ?? this.tuner!.model;
  }

  forward(inputs: PeftForwardInputs): ModelOutput {
    const { adapterNames, ...rest } = inputs;
    if (this.prompt !== null) {
      if (adapterNames !== undefined) throw new UnsupportedError('mixed adapter batches (adapterNames) are not supported for prompt learning');
      return this.prompt.forward(this.activeAdapter, rest);
    }
    const model = this.getBaseModel() as Module & Partial<ForwardModule>;
    if (typeof model.forward !== 'function') throw new AdapterError(`${model.typeName} has no forward(inputs) to call`);
    if (this.tuner instanceof AdaLoraModel) {
      if (adapterNames !== undefined) throw new UnsupportedError('mixed adapter batches (adapterNames) are not supported for ADALORA');
      return this.tuner.withOrthogonalRegularization(model.forward(rest));
    }
    if (adapterNames === undefined) return model.forward(rest);
    const tuner = this.injected('adapterNames');
    if (!(tuner instanceof LoraModel)) throw new UnsupportedError(`mixed adapter batches (adapterNames) are not supported for ${this.activePeftConfig.peftType}`);
    return tuner.withAdapterNames(adapterNames, () => model.forward!(rest));
  }

  /**
   * Prompt learning on a causal LM: a session for src/generate's decode (`step`, then `dispose` to free its cache)
   * that injects the active adapter's prompt or prefix at the prefill only (PEFT's prepare_inputs_for_generation).
   */
  generationSession(): DecodingSession {
    if (this.prompt === null) throw new UnsupportedError('generationSession is for prompt learning; models with injected adapters generate through their own forward');
    return this.prompt.generationSession(this.activeAdapter);
  }

  /**
   * Prompt learning on an encoder-decoder model: what a generation's first step feeds the model for the encoder
   * inputs `inputs` (PEFT's PeftModelForSeq2SeqLM.generate): the active adapter's virtual tokens prepended to the
   * encoder input (mask extended), or for prefix tuning its key/value prefix as the decoder's pastKeyValues.
   */
  seq2seqGenerationInputs(inputs: ModelInputs): ModelInputs {
    if (this.prompt === null) throw new UnsupportedError('seq2seqGenerationInputs is for prompt learning; models with injected adapters generate through their own forward');
    return this.prompt.seq2seqGenerationInputs(this.activeAdapter, inputs);
  }

  /** Prompt learning: the active adapter's virtual-token embeddings [B, V·submodules, token_dim] (PEFT's get_prompt). */
  getPrompt(batchSize: number): Tensor {
    if (this.prompt === null) throw new UnsupportedError('getPrompt is for prompt learning');
    return this.prompt.getPrompt(this.activeAdapter, batchSize);
  }

  /** Prompt learning: what adapter `adapterName` saves as `prompt_embeddings` (PEFT's get_prompt_embedding_to_save). */
  getPromptEmbeddingToSave(adapterName: string): Tensor {
    if (this.prompt === null) throw new UnsupportedError('getPromptEmbeddingToSave is for prompt learning');
    return this.prompt.getPromptEmbeddingToSave(adapterName);
  }

  /** Adds an adapter (not activated, frozen); task classes add their heads to its modules_to_save. */
  addAdapter(adapterName: string, config: PeftConfig, options: PromptLearningOptions = {}): void {
    if (this.peftConfig.has(adapterName)) throw new AdapterError(`an adapter named '${adapterName}' already exists`);
    const added = adapterConfig(config);
    const current = this.peftConfig.get(this.activeAdapter);
    if (current !== undefined && current.peftType !== added.peftType) {
      throw new AdapterError(`cannot combine adapters of different methods: ${current.peftType} and ${added.peftType}`);
    }
    if (this.headModules !== null) extendModulesToSave(added, this.headModules.names);
    if (this.prompt !== null) {
      this.prompt.addAdapter(adapterName, added as PromptLearningConfig, { ...options, activate: adapterName === this.activeAdapter });
    } else {
      // Each tuner checks that the config is of its own method.
      (this.tuner as BaseTuner<TunerConfig>).addAdapter(adapterName, added as TunerConfig);
    }
  }

  /** Activates one adapter; it becomes trainable unless `inferenceMode` (as PEFT's set_adapter). */
  setAdapter(adapterName: string, options: { inferenceMode?: boolean } = {}): void {
    if (!this.peftConfig.has(adapterName)) throw new AdapterError(`adapter '${adapterName}' not found (adapters: ${[...this.peftConfig.keys()].join(', ')})`);
    (this.prompt ?? this.tuner!).setAdapter(adapterName, options);
    this.activeAdapter = adapterName;
  }

  deleteAdapter(adapterName: string): void {
    if (!this.peftConfig.has(adapterName)) throw new AdapterError(`adapter '${adapterName}' not found (adapters: ${[...this.peftConfig.keys()].join(', ')})`);
    if (this.prompt !== null) {
      const next = [...this.peftConfig.keys()].find((a) => a !== adapterName);
      this.prompt.deleteAdapter(adapterName, next);
      if (adapterName === this.activeAdapter && next !== undefined) this.activeAdapter = next;
      return;
    }
    const tuner = this.tuner!;
    tuner.deleteAdapter(adapterName);
    this.activeAdapter = tuner.activeAdapters[0] ?? this.activeAdapter;
  }

  /** Runs fn with the adapters disabled (PEFT's `with model.disable_adapter():`). */
  disableAdapter<T>(fn: () => T): T {
    return (this.prompt ?? this.tuner!).withDisabledAdapters(fn);
  }

  mergeAdapter(adapterNames?: readonly string[], options: { safeMerge?: boolean } = {}): void {
    this.injected('mergeAdapter').mergeAdapter(adapterNames, options);
  }

  unmergeAdapter(): void {
    this.injected('unmergeAdapter').unmergeAdapter();
  }

  /** Merges the adapters into the base weights and returns the model without adapter layers. */
  mergeAndUnload(options: MergeOptions = {}): Module {
    return this.injected('mergeAndUnload').mergeAndUnload(options);
  }

  /**
   * AdaLoRA (PEFT's `model.base_model.update_and_allocate`): updates the rank allocator and prunes to the budget of
   * `globalStep`; call it after each optimizer step, before the gradients are zeroed.
   */
  updateAndAllocate(globalStep: number): void {
    const tuner = this.injected('updateAndAllocate');
    if (!(tuner instanceof AdaLoraModel)) throw new UnsupportedError(`updateAndAllocate is for AdaLoRA adapters, not ${this.activePeftConfig.peftType}`);
    tuner.updateAndAllocate(globalStep);
  }

  /** Returns the model without adapter layers, base weights unchanged. */
  unload(): Module {
    return this.injected('unload').unload();
  }

  /** Trainable and total parameter counts (tied weights once). */
  getNbTrainableParameters(): { trainable: number; all: number } {
    return countParameters(this);
  }

  /** Prints e.g. `trainable params: 294,912 || all params: 124,734,720 || trainable%: 0.2364`. */
  printTrainableParameters(): void {
    const { trainable, all } = this.getNbTrainableParameters();
    console.log(formatTrainableParameters(trainable, all));
  }

  /** The tensors adapter `adapterName` saves, by checkpoint key (the live tensors, not copies, unless its method saves them in another form). */
  getAdapterStateDict(adapterName = this.activeAdapter, options: Pick<SavePretrainedOptions, 'saveEmbeddingLayers'> = {}): Map<string, Tensor> {
    const state = getPeftModelStateDict(this, this.getBaseModel(), this.peftConfig, adapterName, options);
    this.tuner?.checkAdapterStateDict(adapterName, state);
    this.tuner?.toSavedState(adapterName, state);
    if (this.prompt !== null) state.set('prompt_embeddings', this.prompt.getPromptEmbeddingToSave(adapterName));
    return state;
  }

  /**
   * Writes each adapter as PEFT does: `<dir>` for "default", `<dir>/<name>` for the others, each with
   * adapter_model.safetensors (metadata {"format": "pt"}) and adapter_config.json (inference_mode true,
   * base_model_name_or_path filled from the model when unset). Both files of an adapter are written in
   * full before either replaces what the folder held.
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
    const initialPath = options.pathInitialModelForWeightConversion;
    if (initialPath !== undefined) for (const adapterName of selected) checkConvertible(this.peftConfig.get(adapterName)!, adapterName);
    const initial = initialPath === undefined ? null : readInitialAdapter(initialPath);
    const base = this.getBaseModel();
    try {
      for (const adapterName of selected) {
        const state = this.getAdapterStateDict(adapterName, options);
        const outDir = adapterName === 'default' ? dir : join(dir, adapterName);
        commitFiles(outDir, (staging) => {
          let config = this.peftConfig.get(adapterName)!;
          if (initial === null) saveSafetensors(join(staging, SAFETENSORS_WEIGHTS_NAME), this.tuner?.fileTensors(adapterName, state) ?? Object.fromEntries(state), { format: 'pt' });
          else config = this.saveConverted(adapterName, state, staging, initialPath!, initial);
          config.baseModelNameOrPath ??= nameOrPathOf(base);
          config.save(staging, config.taskType === null ? { autoMapping: autoMappingOf(base) } : {});
        });
      }
    } finally {
      for (const t of initial?.weights.values() ?? []) t.dispose();
    }
  }

  /**
   * Writes adapter `adapterName` converted against the initial adapter (PEFT's subtract_mutated_init) and the
   * initial folder's config; returns the config to save with it (a copy: the live config is left as it is).
   */
  private saveConverted(
    adapterName: string,
    state: ReadonlyMap<string, Tensor>,
    outDir: string,
    initialPath: string,
    initial: { weights: ReadonlyMap<string, Tensor>; file: string },
  ): LoraConfig {
    const initialConfig = initialAdapterConfig(this.peftConfig.get(adapterName) as LoraConfig);
    const initialState = adapterCheckpointBySavedKey({ root: this, base: this.getBaseModel(), configs: this.peftConfig, adapterName }, initial.weights, initial.file);
    const converted = subtractMutatedInit(state, initialState, initial.file);
    try {
      initialConfig.save(initialPath, { inferenceMode: initialConfig.inferenceMode });
      saveSafetensors(join(outDir, SAFETENSORS_WEIGHTS_NAME), Object.fromEntries(converted), { format: 'pt' });
    } finally {
      for (const t of converted.values()) t.dispose();
    }
    return convertedAdapterConfig(initialConfig);
  }

  /**
   * Loads adapter weights into adapter `adapterName`, adding the adapter (not activated) from the folder's
   * adapter_config.json when the model does not have it yet. `pathOrRepoId` is a local folder or a Hub id.
   */
  async loadAdapter(pathOrRepoId: string, adapterName: string, options: LoadAdapterOptions = {}): Promise<void> {
    const folder = await resolveAdapterFolder(pathOrRepoId, sourceOptions(options));
    this.loadAdapterFolder(folder, adapterName, options.isTrainable ?? false, options);
  }

  private loadAdapterFolder(folder: AdapterFolder, adapterName: string, isTrainable: boolean, options: PromptLearningOptions): void {
    if (!this.peftConfig.has(adapterName)) {
      const config = PeftConfig.fromJSON(folder.config, { source: folder.configPath });
      config.inferenceMode = !isTrainable;
      this.addAdapter(adapterName, config, options);
      if (isTrainable && this.prompt === null) this.setRequiresGrad(adapterName, true);
    }
    const weights = loadPeftWeights(folder.weights);
    try {
      if (this.prompt !== null) {
        this.prompt.loadPromptEmbeddings(adapterName, weights.get('prompt_embeddings'), folder.weights.file);
        weights.get('prompt_embeddings')?.dispose();
        weights.delete('prompt_embeddings');
      }
      this.tuner?.fromSavedState(adapterName, weights, folder.weights.file);
      this.tuner?.checkAdapterCheckpoint(adapterName, new Set(weights.keys()), folder.weights.file);
      setPeftModelStateDict({ root: this, base: this.getBaseModel(), configs: this.peftConfig, adapterName }, weights, folder.weights.file);
    } finally {
      for (const t of weights.values()) t.dispose();
    }
    if (!isTrainable) this.eval();
  }

  /** Sets requiresGrad on the weights of the named adapters (adapter layers and wrappers); not for prompt learning, as in PEFT. */
  setRequiresGrad(adapterNames: string | readonly string[], requiresGrad = true): void {
    if (this.prompt !== null) throw new UnsupportedError(`setting requiresGrad is not supported for prompt learning (${this.activePeftConfig.peftType})`);
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
    const prompt = { tokenizer: options.tokenizer, generator: options.generator };
    const peft = new Cls(model, config, adapterName, prompt);
    if (!isTrainable) peft.requiresGrad(false);
    peft.loadAdapterFolder(folder, adapterName, isTrainable, prompt);
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
