// LlamaConfig for the Llama family (llama, mistral, qwen2): config.json read with each model type's
// transformers 5 defaults, rope settings from `rope_parameters` or the older top-level `rope_theta`
// + `rope_scaling`, and the per-layer sliding windows of mistral and qwen2.
import type { RopeScaling, RotaryOptions } from '../../engine/ops/rotary-tables.js';
import { ConfigReader, PretrainedConfig, type RawConfig } from '../config.js';
import { ModelConfigError } from '../errors.js';
import { activation } from '../shared/activations.js';

export type LlamaModelType = 'llama' | 'mistral' | 'qwen2';

interface FamilyDefaults {
  /** num_key_value_heads when the key is absent (null: one kv head per attention head). */
  kvHeads: number | null;
  maxPositions: number;
  /** Attribute holding the backbone in the QA model (transformers keeps `transformer` for llama and qwen2). */
  qaPrefix: string;
}

const FAMILIES: Record<LlamaModelType, FamilyDefaults> = {
  llama: { kvHeads: null, maxPositions: 2048, qaPrefix: 'transformer' },
  mistral: { kvHeads: 8, maxPositions: 4096 * 32, qaPrefix: 'model' },
  qwen2: { kvHeads: 32, maxPositions: 32768, qaPrefix: 'transformer' },
};

const DEFAULT_SLIDING_WINDOW = 4096;

export class LlamaConfig extends PretrainedConfig {
  declare readonly modelType: LlamaModelType;
  override readonly tieWordEmbeddings: boolean;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly hiddenAct: string;
  readonly rmsNormEps: number;
  readonly maxPositionEmbeddings: number;
  readonly rope: RotaryOptions;
  /** Bias on q_proj, k_proj, v_proj (llama's attention_bias; always on for qwen2). */
  readonly qkvBias: boolean;
  /** Bias on o_proj (llama's attention_bias only). */
  readonly outputBias: boolean;
  readonly mlpBias: boolean;
  readonly attentionDropout: number;
  /**
   * The sliding window of a layer's attention, or null for full causal attention. A function, not a
   * per-layer list, so that a huge layer count reaches the memory check when the model is built.
   */
  readonly slidingWindow: (layer: number) => number | null;
  readonly classifierDropout: number;
  readonly qaPrefix: string;

  constructor(raw: RawConfig, source = 'config.json') {
    super(raw, source);
    const r = new ConfigReader(raw, source);
    if (!(this.modelType in FAMILIES)) {
      throw new ModelConfigError(`${source}: "model_type" must be one of ${Object.keys(FAMILIES).join(', ')}, got ${JSON.stringify(raw.model_type)}`);
    }
    const family = FAMILIES[this.modelType];
    this.tieWordEmbeddings = r.bool('tie_word_embeddings', false);
    this.hiddenSize = r.positiveInt('hidden_size');
    this.intermediateSize = r.positiveInt('intermediate_size');
    this.numHiddenLayers = r.positiveInt('num_hidden_layers');
    this.numAttentionHeads = r.positiveInt('num_attention_heads');
    const kvDefault = raw.num_key_value_heads === undefined ? family.kvHeads : null;
    this.numKeyValueHeads = r.has('num_key_value_heads') ? r.positiveInt('num_key_value_heads') : kvDefault ?? this.numAttentionHeads;
    if (this.numAttentionHeads % this.numKeyValueHeads !== 0) {
      throw new ModelConfigError(`${source}: "num_key_value_heads" (${this.numKeyValueHeads}) must divide "num_attention_heads" (${this.numAttentionHeads})`);
    }
    const divisible = this.hiddenSize % this.numAttentionHeads === 0;
    if (!divisible && (this.modelType === 'llama' || !r.has('head_dim'))) {
      throw new ModelConfigError(`${source}: "hidden_size" (${this.hiddenSize}) must be a multiple of "num_attention_heads" (${this.numAttentionHeads})`);
    }
    this.headDim = r.has('head_dim') ? r.positiveInt('head_dim') : this.hiddenSize / this.numAttentionHeads;
    if (this.headDim % 2 !== 0) throw new ModelConfigError(`${source}: "head_dim" must be even for rotary embeddings, got ${this.headDim}`);
    this.hiddenAct = r.str('hidden_act', 'silu');
    activation(this.hiddenAct, 'hidden_act', source);
    this.rmsNormEps = r.nonNegativeNum('rms_norm_eps', 1e-6);
    this.maxPositionEmbeddings = r.positiveInt('max_position_embeddings', family.maxPositions);
    this.rope = readRope(r, this.headDim, this.maxPositionEmbeddings);
    const attentionBias = this.modelType === 'llama' && r.bool('attention_bias', false);
    this.qkvBias = attentionBias || this.modelType === 'qwen2';
    this.outputBias = attentionBias;
    this.mlpBias = this.modelType === 'llama' && r.bool('mlp_bias', false);
    this.attentionDropout = r.num('attention_dropout', 0);
    this.slidingWindow = readSlidingWindows(r, this.modelType, this.numHiddenLayers);
    this.classifierDropout = r.num(['classifier_dropout', 'hidden_dropout'], 0.1);
    this.qaPrefix = family.qaPrefix;
  }

  /** embed_tokens, then per layer q/k/v/o_proj and the three MLP matrices (no biases, norms or heads). */
  override minParameterCount(): number {
    const h = this.hiddenSize;
    const attention = 2 * h * this.numAttentionHeads * this.headDim + 2 * h * this.numKeyValueHeads * this.headDim;
    return this.vocabSize * h + this.numHiddenLayers * (attention + 3 * h * this.intermediateSize);
  }
}

/** Rotary settings as transformers standardises them: rope_scaling wins over rope_parameters. */
function readRope(r: ConfigReader, headDim: number, maxPositions: number): RotaryOptions {
  const key = Object.keys(r.object('rope_scaling') ?? {}).length > 0 ? 'rope_scaling' : 'rope_parameters';
  const p = new ConfigReader(r.object(key) ?? {}, `${r.source} ${key}`);
  const theta = p.positiveNum('rope_theta', r.positiveNum('rope_theta', 10000));
  const partial = p.num('partial_rotary_factor', r.num('partial_rotary_factor', 1));
  if (partial !== 1) throw new ModelConfigError(`${r.source}: "partial_rotary_factor" ${partial} is not supported by this family (only 1)`);
  const type = p.str('rope_type', p.str('type', 'default'));
  let scaling: RopeScaling | undefined;
  if (type === 'linear') {
    scaling = { type, factor: p.positiveNum('factor') };
  } else if (type === 'llama3') {
    scaling = {
      type,
      factor: p.positiveNum('factor'),
      lowFreqFactor: p.positiveNum('low_freq_factor'),
      highFreqFactor: p.positiveNum('high_freq_factor'),
      originalMaxPositionEmbeddings: p.positiveInt('original_max_position_embeddings', maxPositions),
    };
    if (scaling.lowFreqFactor === scaling.highFreqFactor) {
      throw new ModelConfigError(`${p.source}: "high_freq_factor" must differ from "low_freq_factor" (${scaling.lowFreqFactor})`);
    }
  } else if (type !== 'default') {
    throw new ModelConfigError(`${p.source}: "rope_type" must be default, linear or llama3, got ${JSON.stringify(type)}`);
  }
  return { dim: headDim, theta, scaling };
}

/** mistral: every layer uses sliding_window; qwen2: the layers layer_types marks sliding_attention, else those from max_window_layers on. */
function readSlidingWindows(r: ConfigReader, modelType: LlamaModelType, layers: number): (layer: number) => number | null {
  if (modelType === 'llama') return () => null;
  const enabled = modelType === 'mistral' || r.bool('use_sliding_window', false);
  const window = !enabled ? null : r.raw.sliding_window === undefined ? DEFAULT_SLIDING_WINDOW : r.has('sliding_window') ? r.positiveInt('sliding_window') : null;
  if (modelType === 'mistral') return () => window;
  const types = r.raw.layer_types;
  if (types === undefined || types === null) {
    const firstSliding = r.int('max_window_layers', 28);
    return (layer) => (layer >= firstSliding ? window : null);
  }
  if (!Array.isArray(types) || types.length !== layers || !types.every((t) => t === 'full_attention' || t === 'sliding_attention')) {
    throw new ModelConfigError(`${r.source}: "layer_types" must list "full_attention" or "sliding_attention" for each of the ${layers} layers, got ${JSON.stringify(types)}`);
  }
  const sliding = types.map((t) => t === 'sliding_attention');
  if (sliding.some(Boolean) && window === null) {
    throw new ModelConfigError(`${r.source}: "sliding_window" must be set (with "use_sliding_window": true) when "layer_types" has sliding_attention layers`);
  }
  return (layer) => (sliding[layer]! ? window : null);
}
