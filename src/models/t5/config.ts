// T5Config as transformers 5 reads config.json: layer sizes, relative-attention buckets, the
// feed-forward form (`relu`, `gated-gelu`, `gated-silu`, …) and whether decoder outputs are scaled
// by d_model^-0.5 before the (always shared) LM head.
import { ConfigReader, PretrainedConfig, type RawConfig } from '../config.js';
import { ModelConfigError } from '../errors.js';
import { activation } from '../shared/activations.js';

export class T5Config extends PretrainedConfig {
  override readonly padTokenId: number | null;
  override readonly eosTokenIds: number[];
  override readonly isEncoderDecoder: boolean;
  readonly dModel: number;
  readonly dKv: number;
  readonly dFf: number;
  readonly numLayers: number;
  readonly numDecoderLayers: number;
  readonly numHeads: number;
  readonly relativeAttentionNumBuckets: number;
  readonly relativeAttentionMaxDistance: number;
  readonly dropoutRate: number;
  readonly layerNormEpsilon: number;
  readonly feedForwardProj: string;
  /** wi_0/wi_1 gated feed-forward instead of a single wi. */
  readonly isGatedAct: boolean;
  readonly denseActFn: string;
  /** Multiply the decoder output by d_model^-0.5 before lm_head (original T5, whose head is the embedding). */
  readonly scaleDecoderOutputs: boolean;
  readonly decoderStartTokenId: number | null;
  readonly classifierDropout: number;

  constructor(raw: RawConfig, source = 'config.json') {
    super(raw, source);
    const r = new ConfigReader(raw, source);
    if (this.modelType !== 't5') throw new ModelConfigError(`${source}: "model_type" must be "t5", got ${JSON.stringify(raw.model_type)}`);
    this.padTokenId = 'pad_token_id' in raw ? r.intOrNull('pad_token_id') : 0;
    this.eosTokenIds = 'eos_token_id' in raw ? r.ids('eos_token_id') : [1];
    this.isEncoderDecoder = r.bool('is_encoder_decoder', true);
    this.dModel = r.positiveInt('d_model');
    this.dKv = r.positiveInt('d_kv');
    this.dFf = r.positiveInt('d_ff');
    this.numLayers = r.positiveInt('num_layers');
    this.numDecoderLayers = r.has('num_decoder_layers') ? r.positiveInt('num_decoder_layers') : this.numLayers;
    this.numHeads = r.positiveInt('num_heads');
    this.relativeAttentionNumBuckets = r.positiveInt('relative_attention_num_buckets', 32);
    this.relativeAttentionMaxDistance = r.positiveInt('relative_attention_max_distance', 128);
    this.dropoutRate = r.num('dropout_rate', 0.1);
    this.layerNormEpsilon = r.nonNegativeNum('layer_norm_epsilon', 1e-6);
    this.feedForwardProj = r.str('feed_forward_proj', 'relu');
    const parts = this.feedForwardProj.split('-');
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'gated')) {
      throw new ModelConfigError(`${source}: "feed_forward_proj" must be "{ACT_FN}" or "gated-{ACT_FN}" (e.g. "relu", "gated-gelu"), got ${JSON.stringify(this.feedForwardProj)}`);
    }
    this.isGatedAct = parts.length === 2;
    this.denseActFn = this.feedForwardProj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1]!;
    activation(this.denseActFn, 'feed_forward_proj', source);
    this.scaleDecoderOutputs = r.bool('scale_decoder_outputs', raw.tie_word_embeddings !== false);
    this.decoderStartTokenId = r.intOrNull('decoder_start_token_id');
    this.classifierDropout = r.num('classifier_dropout', 0);
  }

  /** The shared embedding, then per encoder block q/k/v/o and the feed-forward matrices (the decoder is left out: T5EncoderModel has none). */
  override minParameterCount(): number {
    const d = this.dModel;
    const ffIn = this.isGatedAct ? 2 : 1;
    return this.vocabSize * d + this.numLayers * (4 * d * this.numHeads * this.dKv + (ffIn + 1) * d * this.dFf);
  }
}
