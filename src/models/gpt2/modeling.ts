// GPT-2 (transformers' modeling_gpt2): pre-LayerNorm decoder blocks with Conv1D projections, learned
// positions, one fused q/k/v projection and causal attention with an optional KV cache; LM,
// sequence-classification, token-classification and QA heads.
import { ShapeError } from '../../engine/errors.js';
import { arange } from '../../engine/ops/creation.js';
import { add } from '../../engine/ops/binary.js';
import { packedQkvAttention, scaledDotProductAttention } from '../../engine/ops/attention.js';
import { split } from '../../engine/ops/join.js';
import { scope } from '../../engine/scope.js';
import { permute, reshape } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Dropout } from '../../nn/dropout.js';
import { Embedding } from '../../nn/embedding.js';
import { Conv1D, Linear } from '../../nn/linear.js';
import { Module, ModuleList } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import { registerModelFamily } from '../auto.js';
import type { ConfigClass } from '../load.js';
import type { LayerKV, ModelInputs, ModelOutput } from '../outputs.js';
import { PreTrainedModel } from '../pretrained.js';
import { activation, type Activation } from '../shared/activations.js';
import { appendKV, attentionDropout, cachedLength, mergeHeads } from '../shared/attention.js';
import { causalLmOutput, questionAnsweringOutput, sequenceClassifierOutput, tokenClassifierOutput } from '../shared/heads.js';
import { embedInputs } from '../shared/inputs.js';
import { call, shareParameter } from '../shared/layers.js';
import { paddingMask } from '../shared/masks.js';
import { lastNonPadToken } from '../shared/pooling.js';
import { GPT2Config } from './config.js';

export class GPT2Attention extends Module {
  readonly heads: number;
  private readonly scale: number;

  constructor(config: GPT2Config, layerIdx: number) {
    super();
    const e = config.hiddenSize;
    this.heads = config.numAttentionHeads;
    const scale = config.scaleAttnWeights ? 1 / Math.sqrt(e / this.heads) : 1;
    this.scale = config.scaleAttnByInverseLayerIdx ? scale / (layerIdx + 1) : scale;
    this.registerModule('c_attn', new Conv1D(3 * e, e));
    this.registerModule('c_proj', new Conv1D(e, e));
    this.registerModule('attn_dropout', new Dropout(config.attnPdrop));
    this.registerModule('resid_dropout', new Dropout(config.residPdrop));
  }

  /**
   * x [B, T, E]; with a cache, keys and values are appended to `past` and returned as the layer's cache. Without one
   * the heads are read straight from the c_attn output.
   */
  forward(x: Tensor, mask: Tensor | undefined, past: LayerKV | undefined, useCache: boolean): { output: Tensor; cache?: LayerKV } {
    const [b, t, e] = x.shape as [number, number, number];
    const qkvOut = call(this, 'c_attn', x);
    const options = { causal: true, scale: this.scale, attnMask: mask, ...attentionDropout(this.child<Dropout>('attn_dropout')) };
    const project = (merged: Tensor) => call(this, 'resid_dropout', call(this, 'c_proj', merged));
    if (past === undefined && !useCache) return { output: project(packedQkvAttention(qkvOut, { heads: this.heads, ...options })) };
    const headShape = [b, this.heads, t, e / this.heads];
    // [B, T, 3·E] → [3, B, H, T, D] in one copy, then one block each for q, k and v.
    const qkv = permute(reshape(qkvOut, [b, t, 3, this.heads, e / this.heads]), [2, 0, 3, 1, 4]);
    const [q, k, v] = split(qkv, 1, 0).map((part) => reshape(part, headShape)) as [Tensor, Tensor, Tensor];
    const cache = appendKV(past, k, v);
    const attended = scaledDotProductAttention(q, cache.key, cache.value, { ...options, keyLength: cache.length });
    return { output: project(mergeHeads(attended)), cache };
  }
}

class GPT2MLP extends Module {
  private readonly act: Activation;

  constructor(config: GPT2Config) {
    super();
    this.act = activation(config.activationFunction, 'activation_function');
    this.registerModule('c_fc', new Conv1D(config.intermediateSize, config.hiddenSize));
    this.registerModule('c_proj', new Conv1D(config.hiddenSize, config.intermediateSize));
    this.registerModule('dropout', new Dropout(config.residPdrop));
  }

  forward(x: Tensor): Tensor {
    return call(this, 'dropout', call(this, 'c_proj', this.act(call(this, 'c_fc', x))));
  }
}

class GPT2Block extends Module {
  constructor(config: GPT2Config, layerIdx: number) {
    super();
    this.registerModule('ln_1', new LayerNorm(config.hiddenSize, config.layerNormEpsilon));
    this.registerModule('attn', new GPT2Attention(config, layerIdx));
    this.registerModule('ln_2', new LayerNorm(config.hiddenSize, config.layerNormEpsilon));
    this.registerModule('mlp', new GPT2MLP(config));
  }

  /** Runs in its own scope: only the output and the cache outlive it (and what backward saved). */
  forward(x: Tensor, mask: Tensor | undefined, past: LayerKV | undefined, useCache: boolean): { hidden: Tensor; cache?: LayerKV } {
    return scope(() => {
      const { output, cache } = this.child<GPT2Attention>('attn').forward(call(this, 'ln_1', x), mask, past, useCache);
      const h = add(x, output);
      return { hidden: add(h, call(this, 'mlp', call(this, 'ln_2', h))), cache };
    });
  }
}

export abstract class GPT2PreTrainedModel extends PreTrainedModel<GPT2Config> {
  static readonly configClass: ConfigClass<GPT2Config> = GPT2Config;

  get baseModelPrefix(): string {
    return 'transformer';
  }

  override get supportsPastKeyValues(): boolean {
    return true;
  }

  getInputEmbeddings(): Embedding {
    return this.child<GPT2Model>('transformer').getInputEmbeddings();
  }

  /** Old checkpoints hold the causal-mask buffers; LM checkpoints may hold the tied head. */
  protected override ignoredCheckpointKeys(): RegExp[] {
    return [/(^|\.)attn\.(masked_)?bias$/, /^lm_head\.weight$/];
  }

  protected backbone(inputs: ModelInputs): ModelOutput {
    return this.child<GPT2Model>('transformer').forward(inputs);
  }
}

export class GPT2Model extends GPT2PreTrainedModel {
  constructor(config: GPT2Config) {
    super(config);
    const e = config.hiddenSize;
    this.registerModule('wte', new Embedding(config.vocabSize, e));
    this.registerModule('wpe', new Embedding(config.maxPositionEmbeddings, e));
    this.registerModule('drop', new Dropout(config.embdPdrop));
    this.registerModule('h', new ModuleList(Array.from({ length: config.numHiddenLayers }, (_, i) => new GPT2Block(config, i))));
    this.registerModule('ln_f', new LayerNorm(e, config.layerNormEpsilon));
  }

  override getInputEmbeddings(): Embedding {
    return this.child<Embedding>('wte');
  }

  forward(inputs: ModelInputs): ModelOutput {
    const embeds = embedInputs(this, 'wte', inputs);
    const [b, t] = embeds.shape as [number, number, number];
    const blocks = this.child<ModuleList<GPT2Block>>('h');
    const past = inputs.pastKeyValues;
    if (past !== undefined && past.length !== blocks.length) {
      throw new ShapeError('GPT2Model.forward', 'pastKeyValues', `must hold one entry per layer (${blocks.length}), got ${past.length}`);
    }
    const pastLength = cachedLength(past?.[0]);
    const positions = inputs.positionIds ?? reshape(arange(pastLength, pastLength + t, { dtype: 'int32' }), [1, t]);
    let hidden = add(embeds, call(this, 'wpe', positions));
    if (inputs.tokenTypeIds !== undefined) hidden = add(hidden, call(this, 'wte', inputs.tokenTypeIds));
    hidden = call(this, 'drop', hidden);
    const mask = paddingMask('GPT2Model.forward', inputs.attentionMask, b, pastLength + t);
    const cache: LayerKV[] = [];
    const useCache = inputs.useCache ?? false;
    for (const [i, block] of [...blocks].entries()) {
      const out = block.forward(hidden, mask, past?.[i], useCache);
      if (hidden !== embeds) hidden.dispose();
      hidden = out.hidden;
      if (out.cache !== undefined) cache.push(out.cache);
    }
    const lastHiddenState = call(this, 'ln_f', hidden);
    if (hidden !== embeds) hidden.dispose();
    return useCache ? { lastHiddenState, pastKeyValues: cache } : { lastHiddenState };
  }
}

export class GPT2LMHeadModel extends GPT2PreTrainedModel {
  constructor(config: GPT2Config) {
    super(config);
    this.registerModule('transformer', new GPT2Model(config));
    const head = this.registerModule('lm_head', new Linear(config.hiddenSize, config.vocabSize, { bias: false }));
    if (config.tieWordEmbeddings) shareParameter(head, 'weight', this.getInputEmbeddings().weight);
  }

  override getOutputEmbeddings(): Linear {
    return this.child<Linear>('lm_head');
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { lastHiddenState, pastKeyValues } = this.backbone(inputs);
    const out = causalLmOutput(this, 'lm_head', lastHiddenState!, inputs, 'GPT2LMHeadModel.forward');
    return pastKeyValues === undefined ? out : { ...out, pastKeyValues };
  }
}

/** Classifies each sequence from its last non-padding token (score has no bias). */
export class GPT2ForSequenceClassification extends GPT2PreTrainedModel {
  constructor(config: GPT2Config) {
    super(config);
    this.registerModule('transformer', new GPT2Model(config));
    this.registerModule('score', new Linear(config.hiddenSize, config.numLabels, { bias: false }));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const pooled = lastNonPadToken(this.backbone(inputs).lastHiddenState!, inputs.inputIds, this.config.padTokenId);
    return sequenceClassifierOutput(call(this, 'score', pooled), inputs, this.config);
  }
}

export class GPT2ForTokenClassification extends GPT2PreTrainedModel {
  constructor(config: GPT2Config) {
    super(config);
    this.registerModule('transformer', new GPT2Model(config));
    this.registerModule('dropout', new Dropout(config.classifierDropout));
    this.registerModule('classifier', new Linear(config.hiddenSize, config.numLabels));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const hidden = call(this, 'dropout', this.backbone(inputs).lastHiddenState!);
    return tokenClassifierOutput(call(this, 'classifier', hidden), inputs);
  }
}

export class GPT2ForQuestionAnswering extends GPT2PreTrainedModel {
  constructor(config: GPT2Config) {
    super(config);
    this.registerModule('transformer', new GPT2Model(config));
    this.registerModule('qa_outputs', new Linear(config.hiddenSize, 2));
  }

  forward(inputs: ModelInputs): ModelOutput {
    return questionAnsweringOutput(call(this, 'qa_outputs', this.backbone(inputs).lastHiddenState!), inputs);
  }
}

registerModelFamily('gpt2', {
  base: GPT2Model,
  causalLm: GPT2LMHeadModel,
  sequenceClassification: GPT2ForSequenceClassification,
  tokenClassification: GPT2ForTokenClassification,
  questionAnswering: GPT2ForQuestionAnswering,
});
