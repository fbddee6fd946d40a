// Prompt learning on a model (the prompt-learning half of PEFT's peft_model.py): the model itself as `base_model`,
// one prompt encoder per adapter in `prompt_encoder`, and the task classes' input handling. Prompt tuning and
// p-tuning prepend virtual-token embeddings to the input embeddings (attention mask prefixed with ones, causal-LM
// labels with -100, token types with 0); prefix tuning hands every attention layer a key/value prefix through
// pastKeyValues (attention mask prefixed, position ids shifted past it). Generation injects either only at the
// prefill. Adapters save as PEFT saves them: `prompt_embeddings` plus the modules_to_save copies.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromArray, full } from '../engine/ops/creation.js';
import { concat, split } from '../engine/ops/join.js';
import { expand, permute, reshape, slice } from '../engine/ops/view.js';
import { noGrad } from '../engine/autograd.js';
import { scope } from '../engine/scope.js';
import type { Generator } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import type { StepFn, StepInput } from '../generate/step.js';
import { resolveAdapterFolder } from '../io/adapter-folder.js';
import type { SourceOptions } from '../io/file-source.js';
import { SafetensorsFile } from '../io/safetensors-reader.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import type { LayerKV, ModelInputs, ModelOutput } from '../models/outputs.js';
import type { PreTrainedModel } from '../models/pretrained.js';
import { ModuleDict } from '../nn/containers.js';
import type { Embedding } from '../nn/embedding.js';
import { Module } from '../nn/module.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { PeftConfig, type PromptLearningConfig } from './config.js';
import { AdapterError, ConfigError, UnsupportedError } from './errors.js';
import type { BasePromptEncoder } from './tuners/base-prompt-encoder.js';
import { PromptEncoder } from './tuners/p-tuning/model.js';
import { PromptEncoderConfig } from './tuners/p-tuning/config.js';
import { PrefixEncoder } from './tuners/prefix-tuning/model.js';
import { PrefixTuningConfig } from './tuners/prefix-tuning/config.js';
import { PromptEmbedding } from './tuners/prompt-tuning/model.js';
import { PromptTuningConfig } from './tuners/prompt-tuning/config.js';
import { preparePromptLearningConfig } from './utils/other.js';
import { TaskType } from './utils/peft-types.js';
import { warn } from './utils/warnings.js';
import { AuxiliaryTrainingWrapper, setTrainable } from './utils/wrappers.js';

export const SAFETENSORS_WEIGHTS_NAME = 'adapter_model.safetensors';

export interface PromptLearningOptions {
  /** TEXT init of prompt tuning: the tokenizer the config names. */
  tokenizer?: Tokenizer;
  /** Random stream for the new encoder's weights. */
  generator?: Generator;
}

/** Task heads PEFT's task classes train and save with every adapter. */
const HEAD_MODULES: Partial<Record<TaskType, readonly string[]>> = {
  [TaskType.SEQ_CLS]: ['classifier', 'score'],
  [TaskType.TOKEN_CLS]: ['classifier', 'score'],
  [TaskType.QUESTION_ANS]: ['qa_outputs'],
};

const isPrefix = (config: PromptLearningConfig): boolean => config.peftType === 'PREFIX_TUNING';

function createPromptEncoder(config: PromptLearningConfig, wordEmbeddings: Embedding, options: PromptLearningOptions): BasePromptEncoder {
  if (config instanceof PromptTuningConfig) return new PromptEmbedding(config, wordEmbeddings, options);
  if (config instanceof PromptEncoderConfig) return new PromptEncoder(config, options);
  if (config instanceof PrefixTuningConfig) return new PrefixEncoder(config, options);
  throw new UnsupportedError(`prompt-learning method ${config.peftType} is not supported (PROMPT_TUNING, P_TUNING, PREFIX_TUNING are)`);
}

function batchSizeOf(inputs: ModelInputs): number {
  const x = inputs.inputIds ?? inputs.inputsEmbeds;
  if (x === undefined) throw new ConfigError(undefined, 'prompt learning needs inputIds or inputsEmbeds');
  return x.shape[0]!;
}

/** Integer ids shifted by n (position ids past a prefix of n virtual tokens). */
function shiftIds(t: Tensor, n: number): Tensor {
  return fromArray(Int32Array.from(t.data(), (x) => x + n), t.shape, 'int32');
}

/** [B, S] → [B, n + S] with `value` in the first n columns (int32, as masks and labels are). */
function prefixColumns(t: Tensor, n: number, value: number): Tensor {
  const head = full([t.shape[0]!, n], value, t.dtype);
  return concat([head, t], 1);
}

export class PromptLearningModel extends Module {
  readonly peftConfig = new Map<string, PromptLearningConfig>();
  /** The adapter forward uses (PEFT's `active_adapter`). */
  activeAdapter: string;
  readonly taskType: TaskType;
  private disabled = false;

  constructor(model: PreTrainedModel, config: PromptLearningConfig, adapterName = 'default', options: PromptLearningOptions = {}) {
    super();
    if (config.taskType === null) throw new ConfigError('task_type', 'must be set for prompt learning (the task decides how prompts enter the model)');
    this.taskType = config.taskType;
    this.registerModule('base_model', model);
    this.registerModule('prompt_encoder', new ModuleDict<BasePromptEncoder>());
    this.registerModule('word_embeddings', model.getInputEmbeddings());
    this.activeAdapter = adapterName;
    this.extendModulesToSave(config);
    this.addAdapter(adapterName, config, options);
  }

  /** The model (PEFT's base_model for prompt learning). */
  get baseModel(): PreTrainedModel {
    return this.child<PreTrainedModel>('base_model');
  }

  getBaseModel(): PreTrainedModel {
    return this.baseModel;
  }

  get promptEncoder(): ModuleDict<BasePromptEncoder> {
    return this.child<ModuleDict<BasePromptEncoder>>('prompt_encoder');
  }

  get wordEmbeddings(): Embedding {
    return this.child<Embedding>('word_embeddings');
  }

  get activePeftConfig(): PromptLearningConfig {
    return this.peftConfig.get(this.activeAdapter)!;
  }

  private extendModulesToSave(config: PromptLearningConfig): void {
    const heads = HEAD_MODULES[this.taskType];
    if (heads !== undefined) config.modulesToSave = [...(config.modulesToSave ?? []), ...heads];
  }

  /**
   * Adds an adapter (not activated): prepares its config from the model config, builds its encoder (trainable unless
   * inference mode), freezes the model and wraps its modules_to_save. All adapters must be of one method.
   */
  addAdapter(adapterName: string, config: PromptLearningConfig, options: PromptLearningOptions = {}): void {
    if (this.peftConfig.has(adapterName)) throw new AdapterError(`an adapter named '${adapterName}' already exists`);
    if (!config.isPromptLearning) throw new AdapterError(`adapter '${adapterName}': ${config.peftType} is not a prompt-learning method`);
    const first = this.peftConfig.values().next().value;
    if (first !== undefined && first.peftType !== config.peftType) {
      throw new AdapterError(`cannot combine adapters of different methods: ${first.peftType} and ${config.peftType}`);
    }
    const model = this.baseModel;
    if (isPrefix(config) && !model.supportsPastKeyValues) {
      throw new UnsupportedError(`${model.typeName} does not take past key values, which prefix tuning needs`);
    }
    // PEFT's task classes add their heads in their constructor and again in add_adapter, which the constructor calls.
    this.extendModulesToSave(config);
    preparePromptLearningConfig(config, model.config);
    config.numTransformerSubmodules ??= config.taskType === TaskType.SEQ_2_SEQ_LM ? 2 : 1;
    if (config.numTransformerSubmodules !== 1 && !(config.numTransformerSubmodules === 2 && config.taskType === TaskType.SEQ_2_SEQ_LM)) {
      throw new UnsupportedError(`num_transformer_submodules ${config.numTransformerSubmodules} is only supported as 1, or 2 for SEQ_2_SEQ_LM`);
    }
    const encoder = createPromptEncoder(config, this.wordEmbeddings, options);
    for (const [, m] of model.namedChildren()) m.requiresGrad(false);
    if (config.inferenceMode) encoder.requiresGrad(false);
    this.promptEncoder.set(adapterName, encoder);
    this.peftConfig.set(adapterName, config);
    if (config.modulesToSave !== null) {
      setTrainable(model, adapterName, config.modulesToSave, { inferenceMode: config.inferenceMode, activate: adapterName === this.activeAdapter });
    }
  }

  /** Makes `adapterName` the one forward uses (and the active copy of every modules_to_save wrapper). */
  setAdapter(adapterName: string): void {
    if (!this.peftConfig.has(adapterName)) throw new AdapterError(`adapter '${adapterName}' not found (adapters: ${[...this.peftConfig.keys()].join(', ')})`);
    this.activeAdapter = adapterName;
    for (const w of this.wrappers()) w.setAdapter(w.availableAdapters().includes(adapterName) ? [adapterName] : []);
  }

  private wrappers(): AuxiliaryTrainingWrapper[] {
    return [...this.baseModel.namedModules()].map(([, m]) => m).filter((m): m is AuxiliaryTrainingWrapper => m instanceof AuxiliaryTrainingWrapper);
  }

  /**
   * Runs fn with inputs passed to the model untouched (PEFT's disable_adapter for prompt learning; as there, the
   * modules_to_save copies stay in use).
   */
  withDisabledAdapters<T>(fn: () => T): T {
    this.disabled = true;
    try {
      return fn();
    } finally {
      this.disabled = false;
    }
  }

  private get encoder(): BasePromptEncoder {
    return this.promptEncoder.get(this.activeAdapter)!;
  }

  /** The virtual-token positions [B, n] (int32): 0 … n−1 in every row. */
  private promptTokens(batch: number, n: number): Tensor {
    return fromArray(Int32Array.from({ length: batch * n }, (_, i) => i % n), [batch, n], 'int32');
  }

  /** Prompt tuning / p-tuning: the virtual-token embeddings [B, V·submodules, token_dim], computed once and broadcast. */
  getPrompt(batchSize: number): Tensor {
    const config = this.activePeftConfig;
    if (isPrefix(config)) throw new AdapterError('getPrompt: prefix tuning gives a key/value prefix; use getPrefixCache');
    const total = config.numVirtualTokens! * config.numTransformerSubmodules!;
    const prompts = this.encoder.forward(this.promptTokens(1, total));
    return expand(prompts, [batchSize, total, prompts.shape[2]!]);
  }

  /**
   * Prefix tuning: per layer the keys and values [B, heads, V, head_dim] of the virtual tokens. With two transformer
   * submodules (encoder-decoder) these are the decoder's self-attention prefixes, taken as PEFT takes them: its list
   * of 2L keys and values is doubled and cut in groups of four (self, then cross, which the model recomputes), so
   * decoder layer i gets the prefix of layer 2i mod L.
   */
  getPrefixCache(batchSize: number): LayerKV[] {
    const config = this.activePeftConfig;
    if (!isPrefix(config)) throw new AdapterError(`getPrefixCache: ${config.peftType} gives virtual-token embeddings; use getPrompt`);
    const v = config.numVirtualTokens!;
    const layers = config.numLayers!;
    const heads = config.numAttentionHeads!;
    const headDim = config.tokenDim! / heads;
    const flat = this.encoder.forward(this.promptTokens(batchSize, v));
    // [B, V, 2L·D] → [2L, B, heads, V, head_dim]: entry 2i is layer i's keys, 2i + 1 its values.
    const kv = permute(reshape(flat, [batchSize, v, 2 * layers, heads, headDim]), [2, 0, 3, 1, 4]);
    const parts = split(kv, 1, 0).map((t) => reshape(t, [batchSize, heads, v, headDim]));
    const group = 2 * config.numTransformerSubmodules!;
    return Array.from({ length: layers }, (_, i) => ({ key: parts[(group * i) % (2 * layers)]!, value: parts[(group * i + 1) % (2 * layers)]! }));
  }

  /** What adapter `adapterName` saves as `prompt_embeddings`: the encoder's output for the virtual tokens. */
  getPromptEmbeddingToSave(adapterName: string): Tensor {
    const config = this.peftConfig.get(adapterName);
    if (config === undefined) throw new AdapterError(`adapter '${adapterName}' not found`);
    const encoder = this.promptEncoder.get(adapterName)!;
    const n = isPrefix(config) ? config.numVirtualTokens! : config.numVirtualTokens! * config.numTransformerSubmodules!;
    const out = encoder.forward(this.promptTokens(1, n));
    return reshape(out, [n, out.shape[2]!]).detach();
  }

  /** The inputs the model receives for `inputs` under the active adapter (the task class's rewriting). */
  modelInputs(inputs: ModelInputs): ModelInputs {
    const config = this.activePeftConfig;
    const v = config.numVirtualTokens!;
    const b = batchSizeOf(inputs);
    const out: ModelInputs = { ...inputs };
    const seq2seq = this.taskType === TaskType.SEQ_2_SEQ_LM;
    // Seq2seq: the encoder mask grows with the prompt, the decoder mask with a prefix; other tasks: the mask, always.
    if (inputs.attentionMask !== undefined && !(seq2seq && isPrefix(config))) out.attentionMask = prefixColumns(inputs.attentionMask, v, 1);
    if (inputs.decoderAttentionMask !== undefined && seq2seq && isPrefix(config)) out.decoderAttentionMask = prefixColumns(inputs.decoderAttentionMask, v, 1);
    const keepTypes = this.taskType === TaskType.SEQ_CLS || this.taskType === TaskType.TOKEN_CLS;
    if (inputs.tokenTypeIds !== undefined && !keepTypes) {
      warn('Token type ids are not supported for parameter efficient tuning. Ignoring token type ids');
      delete out.tokenTypeIds;
    }
    if (isPrefix(config)) {
      if (inputs.positionIds !== undefined) out.positionIds = shiftIds(inputs.positionIds, v);
      out.pastKeyValues = this.getPrefixCache(b);
      return out;
    }
    if (inputs.positionIds !== undefined) {
      warn('Position ids are not supported for parameter efficient tuning. Ignoring position ids.');
      delete out.positionIds;
    }
    if (out.tokenTypeIds !== undefined) out.tokenTypeIds = prefixColumns(out.tokenTypeIds, v, 0);
    if (inputs.labels !== undefined && this.taskType === TaskType.CAUSAL_LM) out.labels = prefixColumns(inputs.labels, v, -100);
    const embeds = inputs.inputsEmbeds ?? this.wordEmbeddings.forward(inputs.inputIds!);
    delete out.inputIds;
    // Encoder-decoder models: the encoder gets the first V virtual tokens.
    const prompts = config.numTransformerSubmodules === 1 ? this.getPrompt(b) : slice(this.getPrompt(b), 1, 0, v);
    out.inputsEmbeds = concat([prompts, embeds], 1);
    return out;
  }

  forward(inputs: ModelInputs): ModelOutput {
    return this.baseModel.forward(this.disabled ? inputs : this.modelInputs(inputs));
  }

  /**
   * A generation step function (src/generate's decode) for a causal LM: the prompts or the prefix go in at the prefill
   * only, later steps reuse the model's cache.
   */
  generationStep(): StepFn {
    if (this.taskType !== TaskType.CAUSAL_LM) throw new AdapterError(`generation needs a CAUSAL_LM adapter, this one is ${this.taskType}`);
    let cache: LayerKV[] | undefined;
    return (input: StepInput): Tensor => {
      const next = scope(() =>
        noGrad(() => {
          const { batchSize: b, inputLength: n } = input;
          const ids = fromArray(input.inputIds, [b, n], 'int32');
          const mask = fromArray(input.attentionMask, [b, input.pastLength + n], 'int32');
          const prefix = isPrefix(this.activePeftConfig);
          const v = this.activePeftConfig.numVirtualTokens!;
          const positions = (shift: number): Tensor => fromArray(Int32Array.from(input.positionIds, (x) => x + shift), [b, n], 'int32');
          const inputs: ModelInputs =
            input.step === 0
              ? this.modelInputs({ inputIds: ids, attentionMask: mask, ...(prefix ? { positionIds: positions(0) } : {}) })
              : { inputIds: ids, attentionMask: prefixColumns(mask, v, 1), pastKeyValues: cache, ...(prefix ? { positionIds: positions(v) } : {}) };
          const out = this.baseModel.forward({ ...inputs, useCache: true });
          const t = out.logits!.shape[1]!;
          return { logits: reshape(slice(out.logits!, 1, t - 1, t), [b, out.logits!.shape[2]!]), cache: out.pastKeyValues };
        }),
      );
      for (const kv of cache ?? []) {
        kv.key.dispose();
        kv.value.dispose();
      }
      cache = next.cache;
      return next.logits;
    };
  }

  /** Trainable and total parameter counts (tied weights once). */
  getNbTrainableParameters(): { trainable: number; all: number } {
    let trainable = 0;
    let all = 0;
    for (const [, t] of this.namedParameters()) {
      all += t.size;
      if (t.requiresGrad) trainable += t.size;
    }
    return { trainable, all };
  }

  /** What adapter `adapterName` saves, by checkpoint key: `prompt_embeddings` and `base_model.<module>.<param>` copies. */
  getAdapterStateDict(adapterName = this.activeAdapter): Map<string, Tensor> {
    const config = this.peftConfig.get(adapterName);
    if (config === undefined) throw new AdapterError(`adapter '${adapterName}' not found`);
    const encoder = this.promptEncoder.get(adapterName)!;
    const state = new Map<string, Tensor>([['prompt_embeddings', config.inferenceMode ? encoder.embedding.weight : this.getPromptEmbeddingToSave(adapterName)]]);
    for (const [name, m] of this.baseModel.namedModules()) {
      if (!(m instanceof AuxiliaryTrainingWrapper)) continue;
      const own = new Map(m.namedParameters({ removeDuplicate: false }));
      for (const [saved, inMemory] of m.adapterStateDictLoadMap(adapterName)) state.set(`base_model.${name}.${saved}`, own.get(inMemory)!);
    }
    return state;
  }

  /** Writes `<dir>` ("default") or `<dir>/<name>` per adapter: adapter_model.safetensors and adapter_config.json. */
  savePretrained(dir: string, options: { selectedAdapters?: string[] } = {}): void {
    let isFile = false;
    try {
      isFile = statSync(dir).isFile();
    } catch {
      // created below
    }
    if (isFile) throw new AdapterError(`cannot save adapters to ${dir}: it is a file, expected a folder`);
    for (const adapterName of options.selectedAdapters ?? [...this.peftConfig.keys()]) {
      const config = this.peftConfig.get(adapterName);
      if (config === undefined) throw new AdapterError(`cannot save unknown adapter '${adapterName}'`);
      const outDir = adapterName === 'default' ? dir : join(dir, adapterName);
      mkdirSync(outDir, { recursive: true });
      saveSafetensors(join(outDir, SAFETENSORS_WEIGHTS_NAME), Object.fromEntries(this.getAdapterStateDict(adapterName)), { format: 'pt' });
      config.baseModelNameOrPath ??= this.baseModel.nameOrPath || null;
      config.save(outDir);
    }
  }

  /** Copies saved weights into adapter `adapterName` (prompt_embeddings into its encoder's table, module copies into the wrappers). */
  loadAdapterWeights(adapterName: string, weights: Map<string, Tensor>, file: string): void {
    const encoder = this.promptEncoder.get(adapterName);
    if (encoder === undefined) throw new AdapterError(`adapter '${adapterName}' not found`);
    const prompt = weights.get('prompt_embeddings');
    if (prompt === undefined) throw new AdapterError(`${file}: no prompt_embeddings, which a prompt-learning adapter saves`);
    encoder.loadPromptEmbeddings(prompt);
    const targets = new Map<string, Tensor>();
    for (const [name, m] of this.baseModel.namedModules()) {
      if (!(m instanceof AuxiliaryTrainingWrapper)) continue;
      const own = new Map(m.namedParameters({ removeDuplicate: false }));
      for (const [saved, inMemory] of m.adapterStateDictLoadMap(adapterName)) targets.set(`base_model.${name}.${saved}`, own.get(inMemory)!);
    }
    const unknown = [...weights.keys()].filter((k) => k !== 'prompt_embeddings' && !targets.has(k));
    if (unknown.length > 0) throw new AdapterError(`${file}: keys the model has no place for: ${unknown.slice(0, 10).join(', ')}`);
    for (const [key, dst] of targets) {
      const src = weights.get(key);
      if (src === undefined) {
        warn(`Found missing adapter keys while loading the checkpoint: ${JSON.stringify([key])}`);
        continue;
      }
      if (src.size !== dst.size) throw new AdapterError(`${file}: ${key} has ${src.size} values, the model's ${dst.size}`);
      dst.data().set(src.toArray());
    }
  }

  /**
   * Loads an adapter saved by PEFT (or savePretrained) from a local folder or Hub repo onto `model`. Frozen and in
   * eval mode unless `isTrainable`; the encoder of an adapter loaded for inference is the saved prompt table.
   */
  static async fromPretrained(
    model: PreTrainedModel,
    pathOrRepoId: string,
    options: SourceOptions & PromptLearningOptions & { adapterName?: string; isTrainable?: boolean } = {},
  ): Promise<PromptLearningModel> {
    const { adapterName = 'default', isTrainable = false, tokenizer, generator, ...source } = options;
    const folder = await resolveAdapterFolder(pathOrRepoId, source);
    const config = PeftConfig.fromJSON(folder.config, { source: folder.configPath });
    if (!config.isPromptLearning) throw new AdapterError(`${folder.configPath}: ${config.peftType} is not a prompt-learning method`);
    config.inferenceMode = !isTrainable;
    const peft = new PromptLearningModel(model, config as PromptLearningConfig, adapterName, { tokenizer, generator });
    if (folder.weights.format !== 'safetensors') throw new UnsupportedError(`${folder.weights.file}: only adapter_model.safetensors is read for prompt learning`);
    const reader = SafetensorsFile.open(folder.weights.file);
    const weights = new Map<string, Tensor>();
    try {
      for (const key of reader.keys()) weights.set(key, reader.readTensor(key));
      peft.loadAdapterWeights(adapterName, weights, folder.weights.file);
    } finally {
      reader.close();
      for (const t of weights.values()) t.dispose();
    }
    if (!isTrainable) peft.requiresGrad(false).eval();
    return peft;
  }
}

