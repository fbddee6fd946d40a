// DistilBertConfig: config.json fields (dim / n_layers / n_heads, or the hidden_size-style aliases)
// with transformers' defaults.
import { ConfigReader, PretrainedConfig, type RawConfig } from '../config.js';
import { ModelConfigError } from '../errors.js';
import { activation } from '../shared/activations.js';

export class DistilBertConfig extends PretrainedConfig {
  readonly dim: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly hiddenDim: number;
  readonly maxPositionEmbeddings: number;
  readonly activation: string;
  readonly dropout: number;
  readonly attentionDropout: number;
  readonly qaDropout: number;
  readonly seqClassifDropout: number;
  /** The padding row of the word embeddings (pad_token_id, default 0). */
  readonly paddingIdx: number;

  constructor(raw: RawConfig, source = 'config.json') {
    super(raw, source);
    const r = new ConfigReader(raw, source);
    this.dim = r.positiveInt(['dim', 'hidden_size']);
    this.numHiddenLayers = r.positiveInt(['n_layers', 'num_hidden_layers']);
    this.numAttentionHeads = r.positiveInt(['n_heads', 'num_attention_heads']);
    this.hiddenDim = r.positiveInt('hidden_dim');
    this.maxPositionEmbeddings = r.positiveInt('max_position_embeddings');
    this.activation = r.str('activation', 'gelu');
    activation(this.activation, 'activation', source);
    this.dropout = r.num('dropout', 0.1);
    this.attentionDropout = r.num('attention_dropout', 0.1);
    this.qaDropout = r.num('qa_dropout', 0.1);
    this.seqClassifDropout = r.num('seq_classif_dropout', 0.2);
    this.paddingIdx = this.padTokenId ?? 0;
    if (this.paddingIdx < 0 || this.paddingIdx >= this.vocabSize) {
      throw new ModelConfigError(`${source}: "pad_token_id" (${this.paddingIdx}) must be a token id below "vocab_size" (${this.vocabSize})`);
    }
    if (this.dim % this.numAttentionHeads !== 0) {
      throw new ModelConfigError(`${source}: "dim" (${this.dim}) must be divisible by "n_heads" (${this.numAttentionHeads})`);
    }
  }

  /** The word and position embeddings, then per block q/k/v/out_lin, lin1 and lin2 (no biases, norms or heads). */
  override minParameterCount(): number {
    const d = this.dim;
    return (this.vocabSize + this.maxPositionEmbeddings) * d + this.numHiddenLayers * (4 * d * d + 2 * d * this.hiddenDim);
  }
}
