// Small trainable models for the trainer tests, built from src/nn layers and engine ops: an MLP
// classifier over feature vectors, and a tiny causal LM (embedding, dropout, projection, LM head)
// that counts its loss items as transformers' causal LMs do (labels[:, 1:] other than -100).
import { join } from 'node:path';
import { crossEntropy, div, fromArray, Generator, relu, reshape, slice, type Tensor } from '../../src/engine/index.js';
import { saveSafetensors } from '../../src/io/index.js';
import { Dropout, Embedding, Linear, Module } from '../../src/nn/index.js';
import { mulberry32 } from '../../src/train/data/shuffle.js';
import { collate, IGNORE_INDEX, type Batch, type Example, type LossOptions, type TrainableModel } from '../../src/train/index.js';

/** Saves the trainable parameters by name, as an adapter would. */
function saveTrainable(module: Module, dir: string): void {
  saveSafetensors(join(dir, 'adapter_model.safetensors'), new Map(module.namedParameters().filter(([, p]) => p.requiresGrad)));
}

// ------------------------------------------------------------------ MLP classifier
export interface FeatureExample {
  features: number[];
  label: number;
}

export interface FeatureBatch {
  features: Tensor;
  labels: Tensor;
}

export class Mlp extends Module {
  constructor(inputs: number, hidden: number, classes: number, seed: number) {
    super();
    const generator = new Generator(seed);
    this.registerModule('fc1', new Linear(inputs, hidden, { generator }));
    this.registerModule('fc2', new Linear(hidden, classes, { generator }));
  }

  forward(x: Tensor): Tensor {
    return this.child<Linear>('fc2').forward(relu(this.child<Linear>('fc1').forward(x)));
  }
}

export function mlpModel(seed = 1, sizes: [number, number, number] = [4, 16, 3]): TrainableModel<FeatureBatch> & { module: Mlp } {
  const module = new Mlp(...sizes, seed);
  return {
    module,
    computeLoss: (batch) => crossEntropy(module.forward(batch.features), batch.labels),
    saveAdapter: (dir) => saveTrainable(module, dir),
  };
}

export function collateFeatures(examples: FeatureExample[]): FeatureBatch {
  return {
    features: fromArray(examples.flatMap((e) => e.features), [examples.length, examples[0]!.features.length]),
    labels: fromArray(Int32Array.from(examples, (e) => e.label), [examples.length], 'int32'),
  };
}

/** Three linearly separable classes: the label is the index of the largest of the first three features. */
export function separableData(n: number, seed: number): FeatureExample[] {
  const g = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const features = [g() * 2 - 1, g() * 2 - 1, g() * 2 - 1, g() * 2 - 1];
    return { features, label: features.slice(0, 3).indexOf(Math.max(...features.slice(0, 3))) };
  });
}

// ------------------------------------------------------------------ tiny causal LM
export interface TinyLmOptions {
  vocab?: number;
  dim?: number;
  seed?: number;
  /** Dropout after the embedding (its own generator) and after the projection (the default generator). */
  dropout?: number;
  /** Freeze the embedding (its weight must not change in training). */
  freezeEmbedding?: boolean;
  /** Normalise by the step's label count (transformers' num_items_in_batch); default true. */
  countItems?: boolean;
}

export class TinyLm extends Module {
  constructor(vocab: number, dim: number, dropout: number, seed: number) {
    super();
    const generator = new Generator(seed);
    this.registerModule('embed_tokens', new Embedding(vocab, dim, { generator }));
    this.registerModule('embed_dropout', new Dropout(dropout, new Generator(seed + 1000)));
    this.registerModule('proj', new Linear(dim, dim, { generator }));
    this.registerModule('proj_dropout', new Dropout(dropout));
    this.registerModule('lm_head', new Linear(dim, vocab, { bias: false, generator }));
  }

  forward(ids: Tensor): Tensor {
    const h = this.child<Dropout>('embed_dropout').forward(this.child<Embedding>('embed_tokens').forward(ids));
    const p = this.child<Dropout>('proj_dropout').forward(relu(this.child<Linear>('proj').forward(h)));
    return this.child<Linear>('lm_head').forward(p);
  }
}

function shiftedLabels(labels: Tensor): Tensor {
  const [b, t] = labels.shape as [number, number];
  return reshape(slice(labels, 1, 1, t), [b * (t - 1)]);
}

export function tinyLmModel(options: TinyLmOptions = {}): TrainableModel<Batch> & { module: TinyLm } {
  const { vocab = 16, dim = 8, seed = 3, dropout = 0, freezeEmbedding = false, countItems = true } = options;
  const module = new TinyLm(vocab, dim, dropout, seed);
  if (freezeEmbedding) module.getSubmodule('embed_tokens').requiresGrad(false);
  const computeLoss = (batch: Batch, opts: LossOptions): Tensor => {
    const logits = module.forward(batch.inputIds);
    const [b, t] = batch.inputIds.shape as [number, number];
    const flat = reshape(slice(logits, 1, 0, t - 1), [b * (t - 1), vocab]);
    const targets = shiftedLabels(batch.labels!);
    if (opts.numItemsInBatch === undefined) return crossEntropy(flat, targets);
    return div(crossEntropy(flat, targets, { reduction: 'sum' }), opts.numItemsInBatch);
  };
  const model: TrainableModel<Batch> & { module: TinyLm } = {
    module,
    computeLoss,
    saveAdapter: (dir) => saveTrainable(module, dir),
    languageModel: true,
  };
  if (countItems) model.countLossItems = (batch) => [...shiftedLabels(batch.labels!).toArray()].filter((l) => l !== IGNORE_INDEX).length;
  return model;
}

export const collateTokens = (examples: Example[]): Batch => collate(examples, { padTokenId: 0 });

/** Token sequences of uneven lengths (2 to 7) over the vocabulary, following a noisy cyclic pattern. */
export function tokenData(n: number, vocab: number, seed: number): Example[] {
  const g = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const length = 2 + Math.floor(g() * 6);
    let token = 1 + Math.floor(g() * (vocab - 1));
    const ids = Int32Array.from({ length }, () => {
      const current = token;
      token = g() < 0.9 ? 1 + (token % (vocab - 1)) : 1 + Math.floor(g() * (vocab - 1));
      return current;
    });
    return { inputIds: ids, labels: ids.slice() };
  });
}
