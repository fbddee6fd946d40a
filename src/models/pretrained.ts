// Base class of every model: its config, the embeddings PEFT and generation look for, and weight
// loading that follows transformers (base-model prefix added or stripped, tied weights, keys a
// family knows to ignore) while refusing checkpoints that do not fit.
import { statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { formatShape, sameShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { toDtype } from '../engine/ops/cast.js';
import { native } from '../native/binding.js';
import { SafetensorsFile } from '../io/safetensors-reader.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import { loadTorchCheckpoint } from '../io/torch-checkpoint.js';
import { commitFiles } from '../io/atomic-folder.js';
import { writeTextAtomic } from '../io/atomic-write.js';
import { Module, StateDictError } from '../nn/module.js';
import type { Embedding } from '../nn/embedding.js';
import type { Linear } from '../nn/linear.js';
import type { PretrainedConfig, RawConfig } from './config.js';
import { ModelConfigError } from './errors.js';
import { loadPretrained, type FromPretrainedOptions, type PretrainedClass } from './load.js';
import type { ModelInputs, ModelOutput } from './outputs.js';
import type { WeightFiles } from '../io/model-folder.js';

export interface LoadWeightsReport {
  /** Parameters the checkpoint did not hold (left at their initialisation: new task heads). */
  newlyInitialized: string[];
  /** Checkpoint keys left unused: the task head of a checkpoint loaded into a base model. */
  unusedKeys: string[];
}

/**
 * Refuses, before any weight is allocated, a config whose float32 weights alone would exceed the
 * machine's memory: otherwise a huge size fails deep in the allocator, or a huge layer count grows
 * the heap until V8 aborts, with nothing naming the config.
 */
function checkFitsInMemory(config: PretrainedConfig): void {
  const params = config.minParameterCount();
  const bytes = params * Float32Array.BYTES_PER_ELEMENT;
  const total = totalmem();
  if (bytes <= total) return;
  const gib = (n: number) => `${(n / 2 ** 30).toLocaleString('en-US', { maximumFractionDigits: 1 })} GiB`;
  throw new ModelConfigError(
    `${config.source}: the model would hold at least ${params.toLocaleString('en-US')} parameters (${gib(bytes)} as float32), more than this machine's ${gib(total)} of memory`,
  );
}

export abstract class PreTrainedModel<C extends PretrainedConfig = PretrainedConfig> extends Module {
  /** Where the weights came from (`name_or_path` in transformers), recorded into adapter configs. */
  nameOrPath: string | null = null;
  /** The folder's generation_config.json (as read, snake_case), or null: generation defaults then come from the config. */
  generationConfig: Record<string, unknown> | null = null;

  constructor(readonly config: C) {
    super();
    checkFitsInMemory(config);
  }

  /** A randomly initialised model (training mode) from a config dict or a config of the class's type. */
  static fromConfig<M extends PreTrainedModel, C extends PretrainedConfig>(this: PretrainedClass<M, C>, config: C | RawConfig, source?: string): M {
    return new this(config instanceof this.configClass ? config : new this.configClass(config as RawConfig, source));
  }

  /** The model of a local folder or Hub repo id: built from its config.json, weights loaded, in eval mode. */
  static fromPretrained<M extends PreTrainedModel, C extends PretrainedConfig>(this: PretrainedClass<M, C>, pathOrRepoId: string, options?: FromPretrainedOptions): Promise<M> {
    return loadPretrained(pathOrRepoId, (raw, source) => new this(new this.configClass(raw, source)), options);
  }

  /** Attribute name of the backbone inside task models (`transformer`, `model`, `bert`, …). */
  abstract readonly baseModelPrefix: string;

  abstract forward(inputs: ModelInputs): ModelOutput;

  abstract getInputEmbeddings(): Embedding;

  /** Whether forward takes a key/value prefix per layer in inputs.pastKeyValues (prefix tuning needs it). */
  get supportsPastKeyValues(): boolean {
    return false;
  }

  /** The LM head, or null for models without one. PEFT's "all-linear" excludes it. */
  getOutputEmbeddings(): Linear | null {
    return null;
  }

  /** Dotted name of the output embedding module, or null. */
  outputEmbeddingsName(): string | null {
    const head = this.getOutputEmbeddings();
    if (head === null) return null;
    for (const [name, m] of this.namedModules()) if (m === head) return name;
    return null;
  }

  /** Checkpoint keys a family drops silently (old buffers such as GPT-2's attn.bias). */
  protected ignoredCheckpointKeys(): RegExp[] {
    return [];
  }

  /**
   * Checkpoint key renames applied before matching, as [pattern, replacement]. Old checkpoints
   * (bert-base-uncased among them) name LayerNorm parameters gamma and beta.
   */
  protected checkpointKeyAliases(): [RegExp, string][] {
    return [
      [/LayerNorm\.gamma$/, 'LayerNorm.weight'],
      [/LayerNorm\.beta$/, 'LayerNorm.bias'],
    ];
  }

  /** Backbone weights a checkpoint may lack (BERT's pooler): they keep their initialisation and are reported. */
  protected optionalCheckpointKeys(): RegExp[] {
    return [];
  }

  /** Shares the input embedding with the LM head when the config ties them. */
  tieWeights(): void {
    const head = this.getOutputEmbeddings();
    if (head !== null && this.config.tieWordEmbeddings) head.setParameter('weight', this.getInputEmbeddings().weight);
  }

  /**
   * Module prefixes that belong to the task head (not the backbone): they may be missing from a base
   * checkpoint. A base model (no child named baseModelPrefix) has no head: it needs every weight.
   * Models that hold their backbone's modules directly beside a head name the head themselves.
   */
  protected headPrefixes(): string[] {
    const names = [...this.namedChildren()].map(([n]) => n);
    return this.isBaseModel() ? [] : names.filter((n) => n !== this.baseModelPrefix);
  }

  private isBaseModel(): boolean {
    return ![...this.namedChildren()].some(([n]) => n === this.baseModelPrefix);
  }

  /** Maps a checkpoint key onto this model's naming (adding or removing the base-model prefix). */
  private mapKey(key: string, own: Map<string, Tensor>): string | null {
    if (own.has(key)) return key;
    const prefix = `${this.baseModelPrefix}.`;
    if (key.startsWith(prefix) && own.has(key.slice(prefix.length))) return key.slice(prefix.length);
    if (own.has(prefix + key)) return prefix + key;
    return null;
  }

  /**
   * Copies weights from checkpoint files into this model. Unexpected keys and size mismatches
   * raise; keys missing from the checkpoint raise unless they belong to the task head (then they
   * keep their initialisation and are reported) or are tied to a loaded weight. A base model
   * loaded from a task checkpoint (keys under the base-model prefix) leaves that checkpoint's head
   * keys unused, as transformers does.
   */
  loadWeights(weights: WeightFiles): LoadWeightsReport {
    const own = this.stateDict();
    const loaded = new Set<string>();
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    const ignored = this.ignoredCheckpointKeys();
    const prefix = `${this.baseModelPrefix}.`;
    const aliases = this.checkpointKeyAliases();
    let prefixed = false;
    const assign = (key: string, src: Tensor): void => {
      const renamed = aliases.reduce((k, [re, to]) => k.replace(re, to), key);
      if (renamed.startsWith(prefix)) prefixed = true;
      const target = this.mapKey(renamed, own);
      if (target === null) {
        if (!ignored.some((re) => re.test(key))) unexpected.push(key);
        return;
      }
      const dst = own.get(target)!;
      if (!sameShape(dst.shape, src.shape)) {
        mismatched.push(`${key}: checkpoint ${formatShape(src.shape)} vs model ${formatShape(dst.shape)}`);
        return;
      }
      const value = src.dtype === dst.dtype ? src : toDtype(src, dst.dtype);
      native.copyBytes(value.buffer, 0, dst.buffer, 0, value.storage.bytes);
      if (value !== src) value.dispose();
      loaded.add(target);
    };
    for (const file of weights.files) {
      if (weights.format === 'safetensors') {
        const reader = SafetensorsFile.open(file);
        try {
          for (const key of reader.keys()) {
            const t = reader.readTensor(key);
            assign(key, t);
            t.dispose();
          }
        } finally {
          reader.close();
        }
      } else {
        for (const [key, t] of loadTorchCheckpoint(file)) {
          if ('isTensor' in t) {
            assign(key, t);
            t.dispose();
          } else if (!ignored.some((re) => re.test(key))) {
            unexpected.push(`${key} (unsupported dtype ${t.dtype})`);
          }
        }
      }
    }
    if (mismatched.length > 0) throw new StateDictError(`${this.typeName}: size mismatch for ${mismatched.join('; ')}`);
    const unusedKeys = this.isBaseModel() && prefixed ? unexpected.filter((k) => !k.startsWith(prefix)) : [];
    const refused = unexpected.filter((k) => !unusedKeys.includes(k));
    if (refused.length > 0) throw new StateDictError(`${this.typeName}: checkpoint has keys the model does not: ${refused.slice(0, 20).join(', ')}`);
    this.tieWeights();
    const tiedHead = this.config.tieWordEmbeddings ? this.outputEmbeddingsName() : null;
    const heads = this.headPrefixes();
    const missing = [...own.keys()].filter((k) => !loaded.has(k) && !(tiedHead !== null && k.startsWith(`${tiedHead}.`)));
    const optional = this.optionalCheckpointKeys();
    const missingBackbone = missing.filter((k) => !heads.some((h) => k === h || k.startsWith(`${h}.`)) && !optional.some((re) => re.test(k)));
    if (missingBackbone.length > 0) {
      throw new StateDictError(`${this.typeName}: checkpoint is missing ${missingBackbone.length} key(s): ${missingBackbone.slice(0, 20).join(', ')}`);
    }
    return { newlyInitialized: missing, unusedKeys };
  }

  /**
   * Writes config.json and model.safetensors, both in full before either replaces what `dir` held.
   * Tied tensors are stored once, as transformers does: the LM head's weight never, any other shared
   * tensor (a decoder bias tied to the head's bias) under its first name.
   */
  savePretrained(dir: string): void {
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false) throw new StateDictError(`savePretrained: ${dir} is not a directory`);
    const tiedHead = this.config.tieWordEmbeddings ? this.outputEmbeddingsName() : null;
    const tensors: Record<string, Tensor> = {};
    const written = new Set<Tensor>();
    for (const [k, t] of this.stateDict()) {
      if ((tiedHead !== null && k === `${tiedHead}.weight`) || written.has(t)) continue;
      written.add(t);
      tensors[k] = t;
    }
    commitFiles(dir, (staging) => {
      saveSafetensors(join(staging, 'model.safetensors'), tensors, { format: 'pt' });
      writeTextAtomic(join(staging, 'config.json'), `${JSON.stringify(this.config.raw, null, 2)}\n`);
    });
  }
}
