// GPT2Config: config.json fields with transformers' defaults (n_* names, or the hidden_size-style
// aliases transformers maps onto them).
import { ConfigReader, PretrainedConfig, type RawConfig } from '../config.js';
import { ModelConfigError } from '../errors.js';
import { activation } from '../shared/activations.js';

export class GPT2Config extends PretrainedConfig {
  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly maxPositionEmbeddings: number;
  /** MLP width: n_inner, else 4 · n_embd. */
  readonly intermediateSize: number;
  readonly activationFunction: string;
  readonly residPdrop: number;
  readonly embdPdrop: number;
  readonly attnPdrop: number;
  readonly layerNormEpsilon: number;
  readonly scaleAttnWeights: boolean;
  readonly scaleAttnByInverseLayerIdx: boolean;
  /** Dropout before the token-classification head: classifier_dropout, else hidden_dropout, else 0.1. */
  readonly classifierDropout: number;

  constructor(raw: RawConfig, source = 'config.json') {
    super(raw, source);
    const r = new ConfigReader(raw, source);
    this.hiddenSize = r.positiveInt(['n_embd', 'hidden_size']);
    this.numHiddenLayers = r.positiveInt(['n_layer', 'num_hidden_layers']);
    this.numAttentionHeads = r.positiveInt(['n_head', 'num_attention_heads']);
    this.maxPositionEmbeddings = r.positiveInt(['n_positions', 'max_position_embeddings']);
    this.intermediateSize = r.positiveInt('n_inner', 4 * this.hiddenSize);
    this.activationFunction = r.str('activation_function', 'gelu_new');
    activation(this.activationFunction, 'activation_function', source);
    this.residPdrop = r.num('resid_pdrop', 0.1);
    this.embdPdrop = r.num('embd_pdrop', 0.1);
    this.attnPdrop = r.num('attn_pdrop', 0.1);
    this.layerNormEpsilon = r.nonNegativeNum('layer_norm_epsilon', 1e-5);
    this.scaleAttnWeights = r.bool('scale_attn_weights', true);
    this.scaleAttnByInverseLayerIdx = r.bool('scale_attn_by_inverse_layer_idx', false);
    this.classifierDropout = r.num(['classifier_dropout', 'hidden_dropout'], 0.1);
    if (this.hiddenSize % this.numAttentionHeads !== 0) {
      throw new ModelConfigError(`${source}: "n_embd" (${this.hiddenSize}) must be divisible by "n_head" (${this.numAttentionHeads})`);
    }
    if (r.bool('add_cross_attention', false)) throw new ModelConfigError(`${source}: "add_cross_attention" is not supported for gpt2`);
  }

  /** wte and wpe, then per block c_attn, attn.c_proj, c_fc and mlp.c_proj (no biases, norms or heads). */
  override minParameterCount(): number {
    const e = this.hiddenSize;
    return (this.vocabSize + this.maxPositionEmbeddings) * e + this.numHiddenLayers * (4 * e * e + 2 * e * this.intermediateSize);
  }
}
