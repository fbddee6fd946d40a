// The Llama family (llama, mistral, qwen2) as transformers 5 builds it: pre-norm decoder layers of
// grouped-query attention with rotary positions and a gated MLP, RMSNorm, and the task heads.
// Submodules are looked up by name at call time so adapters can replace them.
import { ShapeError } from '../../engine/errors.js';
import { siluMul } from '../../engine/ops/activation.js';
import { add, mul } from '../../engine/ops/binary.js';
import { arange } from '../../engine/ops/creation.js';
import { rotaryCosSin } from '../../engine/ops/rotary-tables.js';
import { applyRotary } from '../../engine/ops/rotary.js';
import { reshape } from '../../engine/ops/view.js';
import { scaledDotProductAttention } from '../../engine/ops/attention.js';
import type { Tensor } from '../../engine/tensor.js';
import { Dropout } from '../../nn/dropout.js';
import { Embedding } from '../../nn/embedding.js';
import { Linear } from '../../nn/linear.js';
import { Module, ModuleList } from '../../nn/module.js';
import { RMSNorm } from '../../nn/norm.js';
import type { ConfigClass } from '../load.js';
import type { LayerKV, ModelInputs, ModelOutput } from '../outputs.js';
import { PreTrainedModel } from '../pretrained.js';
import { activation, type Activation } from '../shared/activations.js';
import { appendKV, cachedLength, mergeHeads, splitHeads, thenDispose } from '../shared/attention.js';
import { causalLmOutput, questionAnsweringOutput, sequenceClassifierOutput, tokenClassifierOutput } from '../shared/heads.js';
import { embedInputs } from '../shared/inputs.js';
import { shareParameter } from '../shared/layers.js';
import { causalMask, type AttentionMaskSpec } from '../shared/masks.js';
import { lastNonPadToken } from '../shared/pooling.js';
import { LlamaConfig } from './config.js';

/** The rotary cos/sin tables of the current positions, shared by every layer of a forward. */
export interface Rotary {
  cos: Tensor;
  sin: Tensor;
}

export class LlamaAttention extends Module {
  constructor(readonly config: LlamaConfig) {
    super();
    const { hiddenSize, numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim, qkvBias } = config;
    this.registerModule('q_proj', new Linear(hiddenSize, heads * headDim, { bias: qkvBias }));
    this.registerModule('k_proj', new Linear(hiddenSize, kvHeads * headDim, { bias: qkvBias }));
    this.registerModule('v_proj', new Linear(hiddenSize, kvHeads * headDim, { bias: qkvBias }));
    this.registerModule('o_proj', new Linear(heads * headDim, hiddenSize, { bias: config.outputBias }));
  }

  /**
   * Without a cache (useCache false, no past) the heads stay token-major, [B, T, heads, D] as the projections leave
   * them: no permute copy in or out of the attention. With one, keys and values are kept [B, heads, S, D].
   */
  forward(x: Tensor, rotary: Rotary, mask: AttentionMaskSpec, past: LayerKV | undefined, useCache: boolean): { out: Tensor; cache?: LayerKV } {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads } = this.config;
    const tokenMajor = past === undefined && !useCache;
    const layout = tokenMajor ? 'bthd' : 'bhtd';
    // q and k are rotated straight from the projection's [B, T, heads, D] view (one pass, no permute).
    const project = (name: string, n: number, rotate: boolean) => {
      const y = this.child<Linear>(name).forward(x);
      const [B, T] = y.shape as [number, number];
      if (!rotate && !tokenMajor) return thenDispose(splitHeads(y, n), y);
      const view = thenDispose(reshape(y, [B, T, n, -1]), y);
      if (!rotate) return view;
      return thenDispose(applyRotary(view, rotary.cos, rotary.sin, { inputLayout: 'bthd', outputLayout: layout }), view);
    };
    const q = project('q_proj', heads, true);
    const k = project('k_proj', kvHeads, true);
    const v = project('v_proj', kvHeads, false);
    const dropoutP = this.training ? this.config.attentionDropout : 0;
    if (tokenMajor) {
      const attended = thenDispose(scaledDotProductAttention(q, k, v, { ...mask, dropoutP, layout }), q, k, v);
      const [B, T] = attended.shape as [number, number];
      const merged = thenDispose(reshape(attended, [B, T, -1]), attended);
      return { out: thenDispose(this.child<Linear>('o_proj').forward(merged), merged) };
    }
    const cache = appendKV(past, k, v);
    const attended = thenDispose(scaledDotProductAttention(q, cache.key, cache.value, { ...mask, dropoutP, keyLength: cache.length }), q);
    const merged = thenDispose(mergeHeads(attended), attended);
    return { out: thenDispose(this.child<Linear>('o_proj').forward(merged), merged), cache };
  }
}

class LlamaMLP extends Module {
  private readonly act: Activation;
  private readonly fusedSilu: boolean;

  constructor(config: LlamaConfig) {
    super();
    const { hiddenSize, intermediateSize, mlpBias: bias } = config;
    this.act = activation(config.hiddenAct, 'hidden_act');
    this.fusedSilu = config.hiddenAct === 'silu' || config.hiddenAct === 'swish';
    this.registerModule('gate_proj', new Linear(hiddenSize, intermediateSize, { bias }));
    this.registerModule('up_proj', new Linear(hiddenSize, intermediateSize, { bias }));
    this.registerModule('down_proj', new Linear(intermediateSize, hiddenSize, { bias }));
  }

  /** act(gate_proj(x))·up_proj(x) through down_proj; silu (the usual act) and the product are one fused op. */
  forward(x: Tensor): Tensor {
    const gateIn = this.child<Linear>('gate_proj').forward(x);
    const up = this.child<Linear>('up_proj').forward(x);
    const gate = this.fusedSilu ? null : thenDispose(this.act(gateIn), gateIn);
    const gated = gate === null ? thenDispose(siluMul(gateIn, up), gateIn, up) : thenDispose(mul(gate, up), gate, up);
    return thenDispose(this.child<Linear>('down_proj').forward(gated), gated);
  }
}

class LlamaDecoderLayer extends Module {
  constructor(config: LlamaConfig) {
    super();
    this.registerModule('self_attn', new LlamaAttention(config));
    this.registerModule('mlp', new LlamaMLP(config));
    this.registerModule('input_layernorm', new RMSNorm(config.hiddenSize, config.rmsNormEps));
    this.registerModule('post_attention_layernorm', new RMSNorm(config.hiddenSize, config.rmsNormEps));
  }

  forward(x: Tensor, rotary: Rotary, mask: AttentionMaskSpec, past: LayerKV | undefined, useCache: boolean): { hidden: Tensor; cache?: LayerKV } {
    const normed = this.child<RMSNorm>('input_layernorm').forward(x);
    const { out, cache } = this.child<LlamaAttention>('self_attn').forward(normed, rotary, mask, past, useCache);
    const h = thenDispose(add(x, out), normed, out);
    const normed2 = this.child<RMSNorm>('post_attention_layernorm').forward(h);
    const mlp = thenDispose(this.child<LlamaMLP>('mlp').forward(normed2), normed2);
    return { hidden: thenDispose(add(h, mlp), h, mlp), cache };
  }
}

/** Shared by every class of the family: the config class and the checkpoint keys to drop. */
export abstract class LlamaPreTrainedModel extends PreTrainedModel<LlamaConfig> {
  static readonly configClass: ConfigClass<LlamaConfig> = LlamaConfig;

  /** A causal-LM checkpoint loads into the other heads without its LM head, as in transformers. */
  protected override ignoredCheckpointKeys(): RegExp[] {
    return [/^lm_head\.weight$/];
  }

  override get supportsPastKeyValues(): boolean {
    return true;
  }
}

export class LlamaModel extends LlamaPreTrainedModel {
  readonly baseModelPrefix = 'model';

  constructor(config: LlamaConfig) {
    super(config);
    const { vocabSize, hiddenSize, padTokenId } = config;
    this.registerModule('embed_tokens', new Embedding(vocabSize, hiddenSize, padTokenId === null ? {} : { paddingIdx: padTokenId }));
    this.registerModule('layers', new ModuleList(Array.from({ length: config.numHiddenLayers }, () => new LlamaDecoderLayer(config))));
    this.registerModule('norm', new RMSNorm(hiddenSize, config.rmsNormEps));
  }

  getInputEmbeddings(): Embedding {
    return this.child<Embedding>('embed_tokens');
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { inputsEmbeds, attentionMask, positionIds, pastKeyValues: past } = inputs;
    const layers = this.child<ModuleList<LlamaDecoderLayer>>('layers');
    if (past !== undefined && past.length !== layers.length) {
      throw new ShapeError(`${this.typeName}.forward`, 'pastKeyValues', `must hold one entry per layer (${layers.length}), got ${past.length}`);
    }
    let hidden = embedInputs(this, 'embed_tokens', inputs);
    const [batch, queryLength] = hidden.shape as [number, number];
    const pastLength = cachedLength(past?.[0]);
    // Positions continue after the cache; padding does not shift them (transformers' cache positions).
    const positions = positionIds ?? arange(pastLength, pastLength + queryLength, { dtype: 'int32' });
    const rotary = rotaryCosSin(positions, this.config.rope);
    // As in transformers, restarting position ids mark packed sequences only without a mask or a cache.
    const packing = inputs.useCache || past !== undefined || positionIds === undefined ? {} : { positionIds };
    const masks = new Map<number | null, AttentionMaskSpec>();
    const maskFor = (slidingWindow: number | null): AttentionMaskSpec => {
      if (!masks.has(slidingWindow)) {
        masks.set(slidingWindow, causalMask(`${this.typeName}.forward`, { attentionMask, batch, queryLength, pastLength, slidingWindow, ...packing }));
      }
      return masks.get(slidingWindow)!;
    };
    const caches: LayerKV[] = [];
    [...layers].forEach((layer, i) => {
      const step = layer.forward(hidden, rotary, maskFor(this.config.slidingWindow(i)), past?.[i], inputs.useCache ?? false);
      if (hidden !== inputsEmbeds) hidden.dispose();
      hidden = step.hidden;
      if (inputs.useCache) caches.push(step.cache!);
      else if (step.cache !== undefined && step.cache.key !== past?.[i]?.key) thenDispose(null, step.cache.key, step.cache.value);
    });
    const lastHiddenState = this.child<RMSNorm>('norm').forward(hidden);
    if (hidden !== inputsEmbeds) hidden.dispose();
    thenDispose(null, rotary.cos, rotary.sin, ...[...masks.values()].flatMap((m) => (m.attnMask ? [m.attnMask] : [])));
    if (positions !== positionIds) positions.dispose();
    return { lastHiddenState, pastKeyValues: inputs.useCache ? caches : undefined };
  }
}

/** The task models: the backbone under `prefix` and a head. */
abstract class LlamaTaskModel extends LlamaPreTrainedModel {
  readonly baseModelPrefix: string;

  constructor(config: LlamaConfig, prefix = 'model') {
    super(config);
    this.baseModelPrefix = prefix;
    this.registerModule(prefix, new LlamaModel(config));
  }

  protected backbone(inputs: ModelInputs): ModelOutput {
    return this.child<LlamaModel>(this.baseModelPrefix).forward(inputs);
  }

  getInputEmbeddings(): Embedding {
    return this.child<LlamaModel>(this.baseModelPrefix).getInputEmbeddings();
  }
}

export class LlamaForCausalLM extends LlamaTaskModel {
  constructor(config: LlamaConfig) {
    super(config);
    const head = this.registerModule('lm_head', new Linear(config.hiddenSize, config.vocabSize, { bias: false }));
    if (config.tieWordEmbeddings) shareParameter(head, 'weight', this.getInputEmbeddings().weight);
  }

  override getOutputEmbeddings(): Linear {
    return this.child<Linear>('lm_head');
  }

  forward(inputs: ModelInputs): ModelOutput {
    const out = this.backbone(inputs);
    return { ...causalLmOutput(this, 'lm_head', out.lastHiddenState!, inputs, `${this.typeName}.forward`), pastKeyValues: out.pastKeyValues };
  }
}

/** Classifies each sequence from its last non-padding token (`score`, no bias). */
export class LlamaForSequenceClassification extends LlamaTaskModel {
  constructor(config: LlamaConfig) {
    super(config);
    this.registerModule('score', new Linear(config.hiddenSize, config.numLabels, { bias: false }));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const pooled = lastNonPadToken(this.backbone(inputs).lastHiddenState!, inputs.inputIds, this.config.padTokenId);
    return sequenceClassifierOutput(this.child<Linear>('score').forward(pooled), inputs, this.config);
  }
}

export class LlamaForTokenClassification extends LlamaTaskModel {
  constructor(config: LlamaConfig) {
    super(config);
    this.registerModule('dropout', new Dropout(config.classifierDropout));
    this.registerModule('score', new Linear(config.hiddenSize, config.numLabels));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { lastHiddenState } = this.backbone(inputs);
    const logits = this.child<Linear>('score').forward(this.child<Dropout>('dropout').forward(lastHiddenState!));
    return tokenClassifierOutput(logits, inputs);
  }
}

/** Extractive QA (`qa_outputs`); the backbone is `transformer` for llama and qwen2, `model` for mistral. */
export class LlamaForQuestionAnswering extends LlamaTaskModel {
  constructor(config: LlamaConfig) {
    super(config, config.qaPrefix);
    this.registerModule('qa_outputs', new Linear(config.hiddenSize, 2));
  }

  /** A causal-LM or base checkpoint keeps its backbone under `model`: read it as `transformer`, as transformers 5 does. */
  protected override checkpointKeyAliases(): [RegExp, string][] {
    const aliases = super.checkpointKeyAliases();
    return this.baseModelPrefix === 'model' ? aliases : [...aliases, [/^model\./, `${this.baseModelPrefix}.`]];
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { lastHiddenState } = this.backbone(inputs);
    return questionAnsweringOutput(this.child<Linear>('qa_outputs').forward(lastHiddenState!), inputs);
  }
}
