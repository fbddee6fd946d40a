// Base class of every model: its config, the embeddings PEFT and generation look for, and weight
// loading that follows transformers (base-model prefix added or stripped, tied weights, keys a
// family knows to ignore) while refusing checkpoints that do not fit.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatShape, sameShape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { toDtype } from '../engine/ops/cast.js';
import { native } from '../native/binding.js';
import { SafetensorsFile } from '../io/safetensors-reader.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import { loadTorchCheckpoint } from '../io/torch-checkpoint.js';
import { writeTextAtomic } from '../io/atomic-write.js';
import { Module, StateDictError } from '../nn/module.js';
import type { Embedding } from '../nn/embedding.js';
import type { Linear } from '../nn/linear.js';
import type { PretrainedConfig } from './config.js';
import type { ModelInputs, ModelOutput } from './outputs.js';
import type { WeightFiles } from '../io/model-folder.js';

export interface LoadWeightsReport {
  /** Parameters the checkpoint did not hold (left at their initialisation: new task heads). */
  newlyInitialized: string[];
}

export abstract class PreTrainedModel<C extends PretrainedConfig = PretrainedConfig> extends Module {
  /** Where the weights came from (`name_or_path` in transformers), recorded into adapter configs. */
  nameOrPath: string | null = null;

  constructor(readonly config: C) {
    super();
  }

  /** Attribute name of the backbone inside task models (`transformer`, `model`, `bert`, …). */
  abstract readonly baseModelPrefix: string;

  abstract forward(inputs: ModelInputs): ModelOutput;

  abstract getInputEmbeddings(): Embedding;

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

  /** Shares the input embedding with the LM head when the config ties them. */
  tieWeights(): void {
    const head = this.getOutputEmbeddings();
    if (head !== null && this.config.tieWordEmbeddings) head.setParameter('weight', this.getInputEmbeddings().weight);
  }

  /** Module prefixes that belong to the task head (not the backbone): they may be missing from a base checkpoint. */
  private headPrefixes(): string[] {
    return [...this.namedChildren()].map(([n]) => n).filter((n) => n !== this.baseModelPrefix);
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
   * keep their initialisation and are reported) or are tied to a loaded weight.
   */
  loadWeights(weights: WeightFiles): LoadWeightsReport {
    const own = this.stateDict();
    const loaded = new Set<string>();
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    const ignored = this.ignoredCheckpointKeys();
    const assign = (key: string, src: Tensor): void => {
      const target = this.mapKey(key, own);
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
    if (unexpected.length > 0) throw new StateDictError(`${this.typeName}: checkpoint has keys the model does not: ${unexpected.slice(0, 20).join(', ')}`);
    this.tieWeights();
    const tiedHead = this.config.tieWordEmbeddings ? this.outputEmbeddingsName() : null;
    const heads = this.headPrefixes();
    const missing = [...own.keys()].filter((k) => !loaded.has(k) && !(tiedHead !== null && k.startsWith(`${tiedHead}.`)));
    const missingBackbone = missing.filter((k) => !heads.some((h) => k === h || k.startsWith(`${h}.`)));
    if (missingBackbone.length > 0) {
      throw new StateDictError(`${this.typeName}: checkpoint is missing ${missingBackbone.length} key(s): ${missingBackbone.slice(0, 20).join(', ')}`);
    }
    return { newlyInitialized: missing };
  }

  /** Writes config.json and model.safetensors (a tied LM head is stored once, as transformers does). */
  savePretrained(dir: string): void {
    if (existsSync(dir) && !existsSync(join(dir, '.'))) throw new StateDictError(`savePretrained: ${dir} is not a directory`);
    mkdirSync(dir, { recursive: true });
    const tiedHead = this.config.tieWordEmbeddings ? this.outputEmbeddingsName() : null;
    const tensors: Record<string, Tensor> = {};
    for (const [k, t] of this.stateDict()) {
      if (tiedHead !== null && k === `${tiedHead}.weight`) continue;
      tensors[k] = t;
    }
    saveSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    writeTextAtomic(join(dir, 'config.json'), `${JSON.stringify(this.config.raw, null, 2)}\n`);
  }
}
