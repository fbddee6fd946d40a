// What the encoders of prompt-learning methods share (PEFT's BasePromptEncoder): an `embedding` table indexed by
// virtual-token position, a forward from those positions to prompt vectors, and loading the `prompt_embeddings`
// an adapter file holds.
import { toDtype } from '../../engine/ops/cast.js';
import { formatShape, sameShape } from '../../engine/shape.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Embedding } from '../../nn/embedding.js';
import { Module } from '../../nn/module.js';
import { AdapterError, ConfigError } from '../errors.js';

/** The config values an encoder is built from; preparePromptLearningConfig and the task class set them. */
export interface PreparedPromptConfig {
  numVirtualTokens: number | null;
  tokenDim: number | null;
  numTransformerSubmodules: number | null;
  numLayers: number | null;
  inferenceMode: boolean;
}

/** A prepared config value, or a ConfigError naming the key when it is still unset. */
export function preparedValue(config: PreparedPromptConfig, field: 'numVirtualTokens' | 'tokenDim' | 'numTransformerSubmodules' | 'numLayers', key: string): number {
  const v = config[field];
  if (v === null) throw new ConfigError(key, 'is not set; prepare the config from the model config first (preparePromptLearningConfig)');
  return v;
}

/** Virtual tokens the encoder embeds: num_virtual_tokens per transformer submodule. */
export function totalVirtualTokens(config: PreparedPromptConfig): number {
  return preparedValue(config, 'numVirtualTokens', 'num_virtual_tokens') * preparedValue(config, 'numTransformerSubmodules', 'num_transformer_submodules');
}

export abstract class BasePromptEncoder extends Module {
  get embedding(): Embedding {
    return this.child<Embedding>('embedding');
  }

  /** Virtual-token positions [B, T] (int32) → prompt vectors [B, T, out]. */
  abstract forward(indices: Tensor): Tensor;

  /** Copies a saved `prompt_embeddings` tensor into the embedding table (PEFT's _load_adapter_state_dict). */
  loadPromptEmbeddings(promptEmbeddings: Tensor): void {
    const weight = this.embedding.weight;
    if (!sameShape(weight.shape, promptEmbeddings.shape)) {
      throw new AdapterError(`prompt_embeddings has shape ${formatShape(promptEmbeddings.shape)}, the ${this.typeName} embedding ${formatShape(weight.shape)}`);
    }
    const values = promptEmbeddings.dtype === 'float32' ? promptEmbeddings : toDtype(promptEmbeddings, 'float32');
    weight.data().set(values.data());
    if (values !== promptEmbeddings) values.dispose();
  }
}

