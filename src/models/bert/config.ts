// BertConfig: config.json fields of BERT-style encoders with transformers' defaults. RoBERTa uses
// the same fields (RobertaConfig only changes the pad-token default).
import { ConfigReader, PretrainedConfig, type RawConfig } from '../config.js';
import { ModelConfigError } from '../errors.js';
import { activation } from '../shared/activations.js';

export class BertConfig extends PretrainedConfig {
  /** transformers' default pad_token_id for the family (the embedding's padding row). */
  protected static readonly defaultPadTokenId: number = 0;

  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly intermediateSize: number;
  readonly hiddenAct: string;
  readonly hiddenDropoutProb: number;
  readonly attentionProbsDropoutProb: number;
  readonly maxPositionEmbeddings: number;
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  /** Dropout before classification heads: classifier_dropout, else hidden_dropout_prob. */
  readonly classifierDropout: number;
  /** The padding row of the word (and RoBERTa's position) embeddings. */
  readonly paddingIdx: number;

  constructor(raw: RawConfig, source = 'config.json') {
    super(raw, source);
    const r = new ConfigReader(raw, source);
    this.hiddenSize = r.positiveInt('hidden_size');
    this.numHiddenLayers = r.positiveInt('num_hidden_layers');
    this.numAttentionHeads = r.positiveInt('num_attention_heads');
    this.intermediateSize = r.positiveInt('intermediate_size');
    this.hiddenAct = r.str('hidden_act', 'gelu');
    activation(this.hiddenAct, 'hidden_act', source);
    this.hiddenDropoutProb = r.num('hidden_dropout_prob', 0.1);
    this.attentionProbsDropoutProb = r.num('attention_probs_dropout_prob', 0.1);
    this.maxPositionEmbeddings = r.positiveInt('max_position_embeddings');
    this.typeVocabSize = r.positiveInt('type_vocab_size', 2);
    this.layerNormEps = r.nonNegativeNum('layer_norm_eps', 1e-12);
    this.classifierDropout = r.num('classifier_dropout', this.hiddenDropoutProb);
    this.paddingIdx = this.padTokenId ?? (this.constructor as typeof BertConfig).defaultPadTokenId;
    if (this.paddingIdx < 0 || this.paddingIdx >= this.vocabSize) {
      throw new ModelConfigError(`${source}: "pad_token_id" (${this.paddingIdx}) must be a token id below "vocab_size" (${this.vocabSize})`);
    }
    if (this.hiddenSize % this.numAttentionHeads !== 0) {
      throw new ModelConfigError(`${source}: "hidden_size" (${this.hiddenSize}) must be divisible by "num_attention_heads" (${this.numAttentionHeads})`);
    }
    for (const key of ['is_decoder', 'add_cross_attention']) {
      if (r.bool(key, false)) throw new ModelConfigError(`${source}: "${key}" is not supported (encoder models only)`);
    }
  }

  /** The three embeddings, then per layer query, key, value, the attention output and the two MLP matrices (no biases, norms, pooler or heads). */
  override minParameterCount(): number {
    const h = this.hiddenSize;
    return (this.vocabSize + this.maxPositionEmbeddings + this.typeVocabSize) * h + this.numHiddenLayers * (4 * h * h + 2 * h * this.intermediateSize);
  }
}
