// Prompt learning on a model, the prompt-learning half of PEFT's peft_model.py that PeftModel runs for prompt
// tuning, p-tuning and prefix tuning: the model itself as `base_model`, one prompt encoder per adapter in
// `prompt_encoder`, and the task classes' input handling. Prompt tuning and p-tuning prepend virtual-token
// embeddings to the input embeddings (attention mask prefixed with ones, causal-LM labels with -100, token types
// with 0); prefix tuning hands every attention layer a key/value prefix through pastKeyValues (attention mask
// prefixed, position ids shifted past it). Generation injects either only at the prefill (encoder-decoder models:
// into the encoder input, or the decoder's cache for a prefix). An adapter saves its encoder's output as
// `prompt_embeddings`.
import { fromArray, full } from '../engine/ops/creation.js';
import { concat, split } from '../engine/ops/join.js';
import { expand, permute, reshape, slice } from '../engine/ops/view.js';
import { noGrad } from '../engine/autograd.js';
import { scope } from '../engine/scope.js';
import type { Generator } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import type { DecodingSession } from '../generate/sessions.js';
import type { StepInput } from '../generate/step.js';
import type { LayerKV, ModelInputs, ModelOutput } from '../models/outputs.js';
import type { PreTrainedModel } from '../models/pretrained.js';
import { ModuleDict } from '../nn/containers.js';
import type { Embedding } from '../nn/embedding.js';
import type { Module } from '../nn/module.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { PromptLearningConfig } from './config.js';
import { AdapterError, AdapterWeightsError, ConfigError, UnsupportedError } from './errors.js';
import type { BasePromptEncoder } from './tuners/base-prompt-encoder.js';
import { PromptEncoder } from './tuners/p-tuning/model.js';
import { PromptEncoderConfig } from './tuners/p-tuning/config.js';
import { PrefixEncoder } from './tuners/prefix-tuning/model.js';
import { PrefixTuningConfig } from './tuners/prefix-tuning/config.js';
import { PromptEmbedding } from './tuners/prompt-tuning/model.js';
import { PromptTuningConfig } from './tuners/prompt-tuning/config.js';
import { checkAdapterName, preparePromptLearningConfig } from './utils/other.js';
import { TaskType } from './utils/peft-types.js';
import { warn } from './utils/warnings.js';
import { AuxiliaryTrainingWrapper, setTrainable } from './utils/wrappers.js';

export interface PromptLearningOptions {
  /** TEXT init of prompt tuning: the tokenizer the config names. */
  tokenizer?: Tokenizer;
  /** Random stream for the new encoder's weights. */
  generator?: Generator;
}

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

/**
 * The prompt-learning adapters of a PeftModel: registers the model as the host's `base_model`, the encoders as
 * `prompt_encoder.<adapter>` and the input embedding as `word_embeddings` (PEFT's module tree), and turns a task's
 * inputs into what the model receives.
 */
export class PromptLearning {
  readonly peftConfig = new Map<string, PromptLearningConfig>();
  readonly promptEncoder = new ModuleDict<BasePromptEncoder>();
  readonly wordEmbeddings: Embedding;
  private disabled = false;

  constructor(
    host: Module,
    readonly model: PreTrainedModel,
    readonly taskType: TaskType,
  ) {
    this.wordEmbeddings = model.getInputEmbeddings();
    host.registerModule('base_model', model);
    host.registerModule('prompt_encoder', this.promptEncoder);
    host.registerModule('word_embeddings', this.wordEmbeddings);
  }

  /**
   * Adds an adapter: prepares its config from the model config, builds its encoder (trainable unless inference
   * mode), freezes the model and wraps its modules_to_save (active ones when `activate`). One method per model.
   */
  addAdapter(adapterName: string, config: PromptLearningConfig, options: PromptLearningOptions & { activate: boolean }): void {
    checkAdapterName(adapterName);
    const first = this.peftConfig.values().next().value;
    if (first !== undefined && first.peftType !== config.peftType) {
      throw new AdapterError(`cannot combine adapters of different methods: ${first.peftType} and ${config.peftType}`);
    }
    const model = this.model;
    if (isPrefix(config) && !model.supportsPastKeyValues) {
      throw new UnsupportedError(`${model.typeName} does not take past key values, which prefix tuning needs`);
    }
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
      setTrainable(model, adapterName, config.modulesToSave, { inferenceMode: config.inferenceMode, activate: options.activate });
    }
  }

  private wrappers(): AuxiliaryTrainingWrapper[] {
    return [...this.model.namedModules()].map(([, m]) => m).filter((m): m is AuxiliaryTrainingWrapper => m instanceof AuxiliaryTrainingWrapper);
  }

  /** The modules_to_save copies of `adapterName` become the ones in use (PEFT's _set_adapter). */
  setAdapter(adapterName: string, options: { inferenceMode?: boolean } = {}): void {
    for (const w of this.wrappers()) w.setAdapter(w.availableAdapters().includes(adapterName) ? [adapterName] : [], options);
  }

  /** Removes an adapter's encoder, config and module copies; `next` takes over in the wrappers. */
  deleteAdapter(adapterName: string, next: string | undefined): void {
    this.peftConfig.delete(adapterName);
    this.promptEncoder.delete(adapterName);
    for (const w of this.wrappers()) w.deleteAdapter(adapterName, next === undefined ? null : [next]);
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

  /** The virtual-token positions [B, n] (int32): 0 … n−1 in every row. */
  private promptTokens(batch: number, n: number): Tensor {
    return fromArray(Int32Array.from({ length: batch * n }, (_, i) => i % n), [batch, n], 'int32');
  }

  private adapter(adapterName: string): { config: PromptLearningConfig; encoder: BasePromptEncoder } {
    const config = this.peftConfig.get(adapterName);
    if (config === undefined) throw new AdapterError(`adapter '${adapterName}' not found (adapters: ${[...this.peftConfig.keys()].join(', ')})`);
    return { config, encoder: this.promptEncoder.get(adapterName)! };
  }

  /** Prompt tuning / p-tuning: the virtual-token embeddings [B, V·submodules, token_dim], computed once and broadcast. */
  getPrompt(adapterName: string, batchSize: number): Tensor {
    const { config, encoder } = this.adapter(adapterName);
    if (isPrefix(config)) throw new AdapterError('getPrompt: prefix tuning gives a key/value prefix; use getPrefixCache');
    const total = config.numVirtualTokens! * config.numTransformerSubmodules!;
    const prompts = encoder.forward(this.promptTokens(1, total));
    return expand(prompts, [batchSize, total, prompts.shape[2]!]);
  }

  /**
   * Prefix tuning: per layer the keys and values [B, heads, V, head_dim] of the virtual tokens. With two transformer
   * submodules (encoder-decoder) these are the decoder's self-attention prefixes, taken as PEFT takes them: its list
   * of 2L keys and values is doubled and cut in groups of four (self, then cross, which the model recomputes), so
   * decoder layer i gets the prefix of layer 2i mod L.
   */
  getPrefixCache(adapterName: string, batchSize: number): LayerKV[] {
    const { config, encoder } = this.adapter(adapterName);
    if (!isPrefix(config)) throw new AdapterError(`getPrefixCache: ${config.peftType} gives virtual-token embeddings; use getPrompt`);
    const v = config.numVirtualTokens!;
    const layers = config.numLayers!;
    const heads = config.numAttentionHeads!;
    const headDim = config.tokenDim! / heads;
    const flat = encoder.forward(this.promptTokens(batchSize, v));
    // [B, V, 2L·D] → [2L, B, heads, V, head_dim]: entry 2i is layer i's keys, 2i + 1 its values.
    const kv = permute(reshape(flat, [batchSize, v, 2 * layers, heads, headDim]), [2, 0, 3, 1, 4]);
    const parts = split(kv, 1, 0).map((t) => reshape(t, [batchSize, heads, v, headDim]));
    const group = 2 * config.numTransformerSubmodules!;
    return Array.from({ length: layers }, (_, i) => ({ key: parts[(group * i) % (2 * layers)]!, value: parts[(group * i + 1) % (2 * layers)]! }));
  }

  /** What adapter `adapterName` saves as `prompt_embeddings`: the encoder's output for the virtual tokens. */
  getPromptEmbeddingToSave(adapterName: string): Tensor {
    const { config, encoder } = this.adapter(adapterName);
    if (config.inferenceMode) return encoder.embedding.weight;
    const n = isPrefix(config) ? config.numVirtualTokens! : config.numVirtualTokens! * config.numTransformerSubmodules!;
    const out = encoder.forward(this.promptTokens(1, n));
    return reshape(out, [n, out.shape[2]!]).detach();
  }

  /** The inputs the model receives for `inputs` with adapter `adapterName` (the task class's rewriting). */
  modelInputs(adapterName: string, inputs: ModelInputs): ModelInputs {
    const { config } = this.adapter(adapterName);
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
      out.pastKeyValues = this.getPrefixCache(adapterName, b);
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
    const all = this.getPrompt(adapterName, b);
    const prompts = config.numTransformerSubmodules === 1 ? all : slice(all, 1, 0, v);
    out.inputsEmbeds = concat([prompts, embeds], 1);
    return out;
  }

  forward(adapterName: string, inputs: ModelInputs): ModelOutput {
    return this.model.forward(this.disabled ? inputs : this.modelInputs(adapterName, inputs));
  }

  /**
   * A generation session (a step function for src/generate's decode, and dispose) for a causal LM: the prompts or
   * the prefix go in at the prefill only, later steps reuse the model's cache, which dispose frees.
   */
  generationSession(adapterName: string): DecodingSession {
    if (this.taskType !== TaskType.CAUSAL_LM) throw new AdapterError(`generation needs a CAUSAL_LM adapter, this one is ${this.taskType}`);
    const { config } = this.adapter(adapterName);
    let cache: LayerKV[] | undefined;
    const release = (): void => {
      for (const kv of cache ?? []) {
        kv.key.dispose();
        kv.value.dispose();
      }
      cache = undefined;
    };
    const step = (input: StepInput): Tensor => {
      const next = scope(() =>
        noGrad(() => {
          const { batchSize: b, inputLength: n } = input;
          const ids = fromArray(input.inputIds, [b, n], 'int32');
          const mask = fromArray(input.attentionMask, [b, input.pastLength + n], 'int32');
          const prefix = isPrefix(config);
          const v = config.numVirtualTokens!;
          const positions = (shift: number): Tensor => fromArray(Int32Array.from(input.positionIds, (x) => x + shift), [b, n], 'int32');
          const inputs: ModelInputs =
            input.step === 0
              ? this.modelInputs(adapterName, { inputIds: ids, attentionMask: mask, ...(prefix ? { positionIds: positions(0) } : {}) })
              : { inputIds: ids, attentionMask: prefixColumns(mask, v, 1), pastKeyValues: cache, ...(prefix ? { positionIds: positions(v) } : {}) };
          const out = this.model.forward({ ...inputs, useCache: true });
          const t = out.logits!.shape[1]!;
          return { logits: reshape(slice(out.logits!, 1, t - 1, t), [b, out.logits!.shape[2]!]), cache: out.pastKeyValues };
        }),
      );
      release();
      cache = next.cache;
      return next.logits;
    };
    return { step, dispose: release };
  }

  /**
   * Encoder-decoder generation: the first step's inputs for the encoder inputs `inputs` — virtual tokens prepended
   * to the encoder input, or the prefix as the decoder's pastKeyValues (later steps run on the model's cache).
   */
  seq2seqGenerationInputs(adapterName: string, inputs: ModelInputs): ModelInputs {
    if (this.taskType !== TaskType.SEQ_2_SEQ_LM) throw new AdapterError(`encoder-decoder generation needs a SEQ_2_SEQ_LM adapter, this one is ${this.taskType}`);
    return this.modelInputs(adapterName, inputs);
  }

  /** Copies a saved `prompt_embeddings` into adapter `adapterName`'s table. */
  loadPromptEmbeddings(adapterName: string, promptEmbeddings: Tensor | undefined, file: string): void {
    if (promptEmbeddings === undefined) throw new AdapterWeightsError(file, 'prompt_embeddings', 'has no prompt_embeddings, which a prompt-learning adapter saves');
    this.adapter(adapterName).encoder.loadPromptEmbeddings(promptEmbeddings);
  }
}
