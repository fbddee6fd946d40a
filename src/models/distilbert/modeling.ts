// DistilBERT (transformers' modeling_distilbert): BERT-style post-LayerNorm blocks with q_lin / k_lin /
// v_lin / out_lin attention and an lin1 / lin2 feed-forward, learned positions, no token types and
// no pooler; sequence-classification, token-classification, QA and masked-LM heads.
import { add } from '../../engine/ops/binary.js';
import { arange } from '../../engine/ops/creation.js';
import { relu } from '../../engine/ops/activation.js';
import { reshape } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Dropout } from '../../nn/dropout.js';
import { Embedding } from '../../nn/embedding.js';
import { Linear } from '../../nn/linear.js';
import { Module, ModuleList } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import { registerModelFamily } from '../auto.js';
import { ModelConfigError } from '../errors.js';
import type { ConfigClass } from '../load.js';
import type { ModelInputs, ModelOutput } from '../outputs.js';
import { PreTrainedModel } from '../pretrained.js';
import { activation, type Activation } from '../shared/activations.js';
import { encoderSelfAttention } from '../shared/attention.js';
import { questionAnsweringOutput, sequenceClassifierOutput, tokenClassifierOutput } from '../shared/heads.js';
import { embedInputs } from '../shared/inputs.js';
import { call, shareParameter } from '../shared/layers.js';
import { paddingMask } from '../shared/masks.js';
import { firstToken } from '../shared/pooling.js';
import { DistilBertConfig } from './config.js';

/** DistilBERT fixes every LayerNorm's eps. */
const LN_EPS = 1e-12;

class Embeddings extends Module {
  constructor(config: DistilBertConfig) {
    super();
    this.registerModule('word_embeddings', new Embedding(config.vocabSize, config.dim, { paddingIdx: config.paddingIdx }));
    this.registerModule('position_embeddings', new Embedding(config.maxPositionEmbeddings, config.dim));
    this.registerModule('LayerNorm', new LayerNorm(config.dim, LN_EPS));
    this.registerModule('dropout', new Dropout(config.dropout));
  }

  forward(inputs: ModelInputs): Tensor {
    const embeds = embedInputs(this, 'word_embeddings', inputs);
    const length = embeds.shape[1]!;
    const positions = inputs.positionIds ?? reshape(arange(0, length, { dtype: 'int32' }), [1, length]);
    return call(this, 'dropout', call(this, 'LayerNorm', add(embeds, call(this, 'position_embeddings', positions))));
  }
}

class MultiHeadSelfAttention extends Module {
  private readonly heads: number;

  constructor(config: DistilBertConfig) {
    super();
    this.heads = config.numAttentionHeads;
    for (const name of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) this.registerModule(name, new Linear(config.dim, config.dim));
    this.registerModule('dropout', new Dropout(config.attentionDropout));
  }

  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    return call(this, 'out_lin', encoderSelfAttention(this, ['q_lin', 'k_lin', 'v_lin'], 'dropout', x, this.heads, mask));
  }
}

class FFN extends Module {
  private readonly act: Activation;

  constructor(config: DistilBertConfig) {
    super();
    this.act = activation(config.activation, 'activation');
    this.registerModule('dropout', new Dropout(config.dropout));
    this.registerModule('lin1', new Linear(config.dim, config.hiddenDim));
    this.registerModule('lin2', new Linear(config.hiddenDim, config.dim));
  }

  forward(x: Tensor): Tensor {
    return call(this, 'dropout', call(this, 'lin2', this.act(call(this, 'lin1', x))));
  }
}

class TransformerBlock extends Module {
  constructor(config: DistilBertConfig) {
    super();
    this.registerModule('attention', new MultiHeadSelfAttention(config));
    this.registerModule('sa_layer_norm', new LayerNorm(config.dim, LN_EPS));
    this.registerModule('ffn', new FFN(config));
    this.registerModule('output_layer_norm', new LayerNorm(config.dim, LN_EPS));
  }

  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const h = call(this, 'sa_layer_norm', add(this.child<MultiHeadSelfAttention>('attention').forward(x, mask), x));
    return call(this, 'output_layer_norm', add(call(this, 'ffn', h), h));
  }
}

class Transformer extends Module {
  constructor(config: DistilBertConfig) {
    super();
    this.registerModule('layer', new ModuleList(Array.from({ length: config.numHiddenLayers }, () => new TransformerBlock(config))));
  }

  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    let h = x;
    for (const block of this.child<ModuleList<TransformerBlock>>('layer')) h = block.forward(h, mask);
    return h;
  }
}

export abstract class DistilBertPreTrainedModel extends PreTrainedModel<DistilBertConfig> {
  static readonly configClass: ConfigClass<DistilBertConfig> = DistilBertConfig;

  get baseModelPrefix(): string {
    return 'distilbert';
  }

  getInputEmbeddings(): Embedding {
    return this.child<DistilBertModel>('distilbert').getInputEmbeddings();
  }

  /** Keys of the masked-LM head in pretraining checkpoints, and the old position_ids buffer. */
  protected override ignoredCheckpointKeys(): RegExp[] {
    return [/^vocab_(transform|layer_norm|projector)\./, /(^|\.)embeddings\.position_ids$/];
  }

  protected backbone(inputs: ModelInputs): Tensor {
    return this.child<DistilBertModel>('distilbert').forward(inputs).lastHiddenState!;
  }
}

export class DistilBertModel extends DistilBertPreTrainedModel {
  constructor(config: DistilBertConfig) {
    super(config);
    this.registerModule('embeddings', new Embeddings(config));
    this.registerModule('transformer', new Transformer(config));
  }

  override getInputEmbeddings(): Embedding {
    return this.getSubmodule('embeddings.word_embeddings') as Embedding;
  }

  forward(inputs: ModelInputs): ModelOutput {
    const embeds = this.child<Embeddings>('embeddings').forward(inputs);
    const [b, t] = embeds.shape as [number, number, number];
    const mask = paddingMask('DistilBertModel.forward', inputs.attentionMask, b, t);
    return { lastHiddenState: this.child<Transformer>('transformer').forward(embeds, mask) };
  }
}

/** First token → pre_classifier → ReLU → dropout → classifier. */
export class DistilBertForSequenceClassification extends DistilBertPreTrainedModel {
  constructor(config: DistilBertConfig) {
    super(config);
    this.registerModule('distilbert', new DistilBertModel(config));
    this.registerModule('pre_classifier', new Linear(config.dim, config.dim));
    this.registerModule('classifier', new Linear(config.dim, config.numLabels));
    this.registerModule('dropout', new Dropout(config.seqClassifDropout));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const pooled = relu(call(this, 'pre_classifier', firstToken(this.backbone(inputs))));
    return sequenceClassifierOutput(call(this, 'classifier', call(this, 'dropout', pooled)), inputs, this.config);
  }
}

export class DistilBertForTokenClassification extends DistilBertPreTrainedModel {
  constructor(config: DistilBertConfig) {
    super(config);
    this.registerModule('distilbert', new DistilBertModel(config));
    this.registerModule('dropout', new Dropout(config.dropout));
    this.registerModule('classifier', new Linear(config.dim, config.numLabels));
  }

  forward(inputs: ModelInputs): ModelOutput {
    return tokenClassifierOutput(call(this, 'classifier', call(this, 'dropout', this.backbone(inputs))), inputs);
  }
}

export class DistilBertForQuestionAnswering extends DistilBertPreTrainedModel {
  constructor(config: DistilBertConfig) {
    super(config);
    if (config.numLabels !== 2) throw new ModelConfigError(`"num_labels" must be 2 for DistilBertForQuestionAnswering, got ${config.numLabels}`);
    this.registerModule('distilbert', new DistilBertModel(config));
    this.registerModule('qa_outputs', new Linear(config.dim, config.numLabels));
    this.registerModule('dropout', new Dropout(config.qaDropout));
  }

  forward(inputs: ModelInputs): ModelOutput {
    return questionAnsweringOutput(call(this, 'qa_outputs', call(this, 'dropout', this.backbone(inputs))), inputs);
  }
}

/** vocab_transform → activation → vocab_layer_norm → vocab_projector (tied to the word embeddings). */
export class DistilBertForMaskedLM extends DistilBertPreTrainedModel {
  private readonly act: Activation;

  constructor(config: DistilBertConfig) {
    super(config);
    this.act = activation(config.activation, 'activation');
    this.registerModule('distilbert', new DistilBertModel(config));
    this.registerModule('vocab_transform', new Linear(config.dim, config.dim));
    this.registerModule('vocab_layer_norm', new LayerNorm(config.dim, LN_EPS));
    this.registerModule('vocab_projector', new Linear(config.dim, config.vocabSize));
    if (config.tieWordEmbeddings) shareParameter(this.getOutputEmbeddings(), 'weight', this.getInputEmbeddings().weight);
  }

  override getOutputEmbeddings(): Linear {
    return this.child<Linear>('vocab_projector');
  }

  forward(inputs: ModelInputs): ModelOutput {
    const h = call(this, 'vocab_layer_norm', this.act(call(this, 'vocab_transform', this.backbone(inputs))));
    return tokenClassifierOutput(call(this, 'vocab_projector', h), inputs);
  }
}

registerModelFamily('distilbert', {
  base: DistilBertModel,
  sequenceClassification: DistilBertForSequenceClassification,
  tokenClassification: DistilBertForTokenClassification,
  questionAnswering: DistilBertForQuestionAnswering,
  maskedLm: DistilBertForMaskedLM,
});
