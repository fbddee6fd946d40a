// BERT (transformers' modeling_bert): post-LayerNorm encoder layers over word + position + token-type
// embeddings, a tanh pooler, and the sequence-classification, token-classification, QA and
// masked-LM heads. RoBERTa reuses all of it with its own EncoderSpec (src/models/roberta).
import { ShapeError } from '../../engine/errors.js';
import { add } from '../../engine/ops/binary.js';
import { arange, zeros } from '../../engine/ops/creation.js';
import { tanh } from '../../engine/ops/activation.js';
import { reshape } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Dropout } from '../../nn/dropout.js';
import { Embedding } from '../../nn/embedding.js';
import { Linear } from '../../nn/linear.js';
import { Module, ModuleList } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import { registerModelFamily } from '../auto.js';
import type { ConfigClass } from '../load.js';
import type { LayerKV, ModelInputs, ModelOutput } from '../outputs.js';
import { PreTrainedModel } from '../pretrained.js';
import { activation, type Activation } from '../shared/activations.js';
import { encoderSelfAttention } from '../shared/attention.js';
import { questionAnsweringOutput, sequenceClassifierOutput, tokenClassifierOutput } from '../shared/heads.js';
import { embedInputs } from '../shared/inputs.js';
import { call, shareParameter } from '../shared/layers.js';
import { paddingMask } from '../shared/masks.js';
import { firstToken } from '../shared/pooling.js';
import { BertConfig } from './config.js';

export class BertEmbeddings extends Module {
  constructor(config: BertConfig, options: { positionPaddingIdx?: number } = {}) {
    super();
    const e = config.hiddenSize;
    this.registerModule('word_embeddings', new Embedding(config.vocabSize, e, { paddingIdx: config.paddingIdx }));
    this.registerModule('position_embeddings', new Embedding(config.maxPositionEmbeddings, e, { paddingIdx: options.positionPaddingIdx }));
    this.registerModule('token_type_embeddings', new Embedding(config.typeVocabSize, e));
    this.registerModule('LayerNorm', new LayerNorm(e, config.layerNormEps));
    this.registerModule('dropout', new Dropout(config.hiddenDropoutProb));
  }

  /** Position ids used when the inputs give none: P … P+T−1 after P cached (prefix) positions. */
  protected defaultPositionIds(_inputs: ModelInputs, length: number, pastLength: number): Tensor {
    return reshape(arange(pastLength, pastLength + length, { dtype: 'int32' }), [1, length]);
  }

  forward(inputs: ModelInputs, pastLength = 0): Tensor {
    const embeds = embedInputs(this, 'word_embeddings', inputs);
    const length = embeds.shape[1]!;
    // Without token types every token has type 0: one row, broadcast.
    const types = call(this, 'token_type_embeddings', inputs.tokenTypeIds ?? zeros([1, 1], 'int32'));
    const positions = call(this, 'position_embeddings', inputs.positionIds ?? this.defaultPositionIds(inputs, length, pastLength));
    return call(this, 'dropout', call(this, 'LayerNorm', add(add(embeds, types), positions)));
  }
}

class BertSelfAttention extends Module {
  private readonly heads: number;

  constructor(config: BertConfig) {
    super();
    this.heads = config.numAttentionHeads;
    for (const name of ['query', 'key', 'value']) this.registerModule(name, new Linear(config.hiddenSize, config.hiddenSize));
    this.registerModule('dropout', new Dropout(config.attentionProbsDropoutProb));
  }

  forward(x: Tensor, mask: Tensor | undefined, past: LayerKV | undefined): Tensor {
    return encoderSelfAttention(this, ['query', 'key', 'value'], 'dropout', x, this.heads, mask, past);
  }
}

/** dense → dropout → LayerNorm(· + residual): BertSelfOutput and BertOutput. */
class BertResidualOutput extends Module {
  constructor(inFeatures: number, config: BertConfig) {
    super();
    this.registerModule('dense', new Linear(inFeatures, config.hiddenSize));
    this.registerModule('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.registerModule('dropout', new Dropout(config.hiddenDropoutProb));
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    return call(this, 'LayerNorm', add(call(this, 'dropout', call(this, 'dense', x)), residual));
  }
}

class BertAttention extends Module {
  constructor(config: BertConfig) {
    super();
    this.registerModule('self', new BertSelfAttention(config));
    this.registerModule('output', new BertResidualOutput(config.hiddenSize, config));
  }

  forward(x: Tensor, mask: Tensor | undefined, past: LayerKV | undefined): Tensor {
    return this.child<BertResidualOutput>('output').forward(this.child<BertSelfAttention>('self').forward(x, mask, past), x);
  }
}

/** dense → activation (a Linear with the config's hidden_act). */
class BertDenseAct extends Module {
  private readonly act: Activation;

  constructor(inFeatures: number, outFeatures: number, config: BertConfig) {
    super();
    this.act = activation(config.hiddenAct, 'hidden_act');
    this.registerModule('dense', new Linear(inFeatures, outFeatures));
  }

  forward(x: Tensor): Tensor {
    return this.act(call(this, 'dense', x));
  }
}

class BertLayer extends Module {
  constructor(config: BertConfig) {
    super();
    this.registerModule('attention', new BertAttention(config));
    this.registerModule('intermediate', new BertDenseAct(config.hiddenSize, config.intermediateSize, config));
    this.registerModule('output', new BertResidualOutput(config.intermediateSize, config));
  }

  forward(x: Tensor, mask: Tensor | undefined, past: LayerKV | undefined): Tensor {
    const h = this.child<BertAttention>('attention').forward(x, mask, past);
    return this.child<BertResidualOutput>('output').forward(call(this, 'intermediate', h), h);
  }
}

class BertEncoder extends Module {
  constructor(config: BertConfig) {
    super();
    this.registerModule('layer', new ModuleList(Array.from({ length: config.numHiddenLayers }, () => new BertLayer(config))));
  }

  /** `past`: a key/value prefix per layer (prefix tuning). */
  forward(x: Tensor, mask: Tensor | undefined, past: LayerKV[] | undefined): Tensor {
    let h = x;
    for (const [i, layer] of [...this.child<ModuleList<BertLayer>>('layer')].entries()) h = layer.forward(h, mask, past?.[i]);
    return h;
  }
}

/** tanh(dense(first token)). */
class BertPooler extends Module {
  constructor(config: BertConfig) {
    super();
    this.registerModule('dense', new Linear(config.hiddenSize, config.hiddenSize));
  }

  forward(hidden: Tensor): Tensor {
    return tanh(call(this, 'dense', firstToken(hidden)));
  }
}

export interface BertModelOptions {
  addPoolingLayer?: boolean;
}

/** What tells BERT-style encoders apart: the backbone's attribute name and classes. */
export interface EncoderSpec {
  prefix: string;
  config: ConfigClass<BertConfig>;
  backbone: new (config: BertConfig, options?: BertModelOptions) => BertModel;
  embeddings: new (config: BertConfig) => BertEmbeddings;
}

export abstract class BertPreTrainedModel extends PreTrainedModel<BertConfig> {
  static get encoder(): EncoderSpec {
    return BERT;
  }

  static get configClass(): ConfigClass<BertConfig> {
    return this.encoder.config;
  }

  protected get encoder(): EncoderSpec {
    return (this.constructor as typeof BertPreTrainedModel).encoder;
  }

  get baseModelPrefix(): string {
    return this.encoder.prefix;
  }

  override get supportsPastKeyValues(): boolean {
    return true;
  }

  getInputEmbeddings(): Embedding {
    return this.child<BertModel>(this.baseModelPrefix).getInputEmbeddings();
  }

  /** Keys of other heads in pretraining checkpoints, and the old position_ids buffer. */
  protected override ignoredCheckpointKeys(): RegExp[] {
    return [/^cls\./, /^lm_head\./, /(^|\.)pooler\./, /(^|\.)embeddings\.position_ids$/];
  }

  /** Masked-LM checkpoints have no pooler. */
  protected override optionalCheckpointKeys(): RegExp[] {
    return [/(^|\.)pooler\./];
  }

  protected registerBackbone(addPoolingLayer: boolean): void {
    this.registerModule(this.baseModelPrefix, new this.encoder.backbone(this.config, { addPoolingLayer }));
  }

  protected backbone(inputs: ModelInputs): ModelOutput {
    return this.child<BertModel>(this.baseModelPrefix).forward(inputs);
  }
}

export class BertModel extends BertPreTrainedModel {
  private readonly hasPooler: boolean;

  constructor(config: BertConfig, options: BertModelOptions = {}) {
    super(config);
    this.hasPooler = options.addPoolingLayer ?? true;
    this.registerModule('embeddings', new this.encoder.embeddings(config));
    this.registerModule('encoder', new BertEncoder(config));
    if (this.hasPooler) this.registerModule('pooler', new BertPooler(config));
  }

  override getInputEmbeddings(): Embedding {
    return this.getSubmodule('embeddings.word_embeddings') as Embedding;
  }

  /** inputs.pastKeyValues: a key/value prefix per layer, attended by every token (attentionMask covers it too). */
  forward(inputs: ModelInputs): ModelOutput {
    const past = inputs.pastKeyValues;
    const layers = this.config.numHiddenLayers;
    if (past !== undefined && past.length !== layers) {
      throw new ShapeError(`${this.typeName}.forward`, 'pastKeyValues', `must hold one entry per layer (${layers}), got ${past.length}`);
    }
    const pastLength = past?.[0]?.key.shape[2] ?? 0;
    const embeds = this.child<BertEmbeddings>('embeddings').forward(inputs, pastLength);
    const [b, t] = embeds.shape as [number, number, number];
    const mask = paddingMask(`${this.typeName}.forward`, inputs.attentionMask, b, pastLength + t);
    const lastHiddenState = this.child<BertEncoder>('encoder').forward(embeds, mask, past);
    return this.hasPooler ? { lastHiddenState, poolerOutput: call(this, 'pooler', lastHiddenState) } : { lastHiddenState };
  }
}

export class BertForSequenceClassification extends BertPreTrainedModel {
  constructor(config: BertConfig) {
    super(config);
    this.registerBackbone(true);
    this.registerModule('dropout', new Dropout(config.classifierDropout));
    this.registerModule('classifier', new Linear(config.hiddenSize, config.numLabels));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const pooled = call(this, 'dropout', this.backbone(inputs).poolerOutput!);
    return sequenceClassifierOutput(call(this, 'classifier', pooled), inputs, this.config);
  }
}

export class BertForTokenClassification extends BertPreTrainedModel {
  constructor(config: BertConfig) {
    super(config);
    this.registerBackbone(false);
    this.registerModule('dropout', new Dropout(config.classifierDropout));
    this.registerModule('classifier', new Linear(config.hiddenSize, config.numLabels));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const hidden = call(this, 'dropout', this.backbone(inputs).lastHiddenState!);
    return tokenClassifierOutput(call(this, 'classifier', hidden), inputs);
  }
}

export class BertForQuestionAnswering extends BertPreTrainedModel {
  constructor(config: BertConfig) {
    super(config);
    this.registerBackbone(false);
    this.registerModule('qa_outputs', new Linear(config.hiddenSize, config.numLabels));
  }

  forward(inputs: ModelInputs): ModelOutput {
    return questionAnsweringOutput(call(this, 'qa_outputs', this.backbone(inputs).lastHiddenState!), inputs);
  }
}

/** cls.predictions.transform: dense → act → LayerNorm. */
class BertPredictionHeadTransform extends BertDenseAct {
  constructor(config: BertConfig) {
    super(config.hiddenSize, config.hiddenSize, config);
    this.registerModule('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps));
  }

  override forward(x: Tensor): Tensor {
    return call(this, 'LayerNorm', super.forward(x));
  }
}

/** cls.predictions: the transform, then the decoder whose bias is predictions.bias. */
class BertLMPredictionHead extends Module {
  constructor(config: BertConfig) {
    super();
    const bias = this.registerParameter('bias', zeros([config.vocabSize]))!;
    this.registerModule('transform', new BertPredictionHeadTransform(config));
    shareParameter(this.registerModule('decoder', new Linear(config.hiddenSize, config.vocabSize)), 'bias', bias);
  }

  forward(hidden: Tensor): Tensor {
    return call(this, 'decoder', call(this, 'transform', hidden));
  }
}

/** cls */
class BertOnlyMLMHead extends Module {
  constructor(config: BertConfig) {
    super();
    this.registerModule('predictions', new BertLMPredictionHead(config));
  }

  forward(hidden: Tensor): Tensor {
    return call(this, 'predictions', hidden);
  }
}

export class BertForMaskedLM extends BertPreTrainedModel {
  constructor(config: BertConfig) {
    super(config);
    this.registerBackbone(false);
    this.registerModule('cls', new BertOnlyMLMHead(config));
    if (config.tieWordEmbeddings) shareParameter(this.getOutputEmbeddings(), 'weight', this.getInputEmbeddings().weight);
  }

  override getOutputEmbeddings(): Linear {
    return this.getSubmodule('cls.predictions.decoder') as Linear;
  }

  forward(inputs: ModelInputs): ModelOutput {
    return tokenClassifierOutput(call(this, 'cls', this.backbone(inputs).lastHiddenState!), inputs);
  }
}

const BERT: EncoderSpec = { prefix: 'bert', config: BertConfig, backbone: BertModel, embeddings: BertEmbeddings };

registerModelFamily('bert', {
  base: BertModel,
  sequenceClassification: BertForSequenceClassification,
  tokenClassification: BertForTokenClassification,
  questionAnswering: BertForQuestionAnswering,
  maskedLm: BertForMaskedLM,
});
