// T5 as transformers 5 builds it: pre-norm encoder and decoder stacks of unscaled attention with a
// learned relative-position bias (computed by block 0, shared by every block of the stack), gated
// or plain feed-forward, one embedding shared by both stacks and the LM head.
import { ShapeError } from '../../engine/errors.js';
import { scaledDotProductAttention } from '../../engine/ops/attention.js';
import { add, mul } from '../../engine/ops/binary.js';
import { fromArray } from '../../engine/ops/creation.js';
import { permute, reshape } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Dropout } from '../../nn/dropout.js';
import { Embedding } from '../../nn/embedding.js';
import { Linear } from '../../nn/linear.js';
import { Module, ModuleList } from '../../nn/module.js';
import { RMSNorm } from '../../nn/norm.js';
import { ModelConfigError } from '../errors.js';
import type { ConfigClass } from '../load.js';
import type { LayerKV, ModelInputs, ModelOutput } from '../outputs.js';
import { PreTrainedModel } from '../pretrained.js';
import { activation, type Activation } from '../shared/activations.js';
import { appendKV, cachedLength, mergeHeads, splitHeads } from '../shared/attention.js';
import { ClassificationHead, questionAnsweringOutput, sequenceClassifierOutput, tokenClassifierOutput } from '../shared/heads.js';
import { embedInputs } from '../shared/inputs.js';
import { shareParameter } from '../shared/layers.js';
import { causalMask, paddingMask, type AttentionMaskSpec } from '../shared/masks.js';
import { selectPositions } from '../shared/pooling.js';
import { T5Config } from './config.js';

/** A decoder layer's cache: self-attention keys/values plus the cross-attention ones, computed once. */
export interface T5LayerCache extends LayerKV {
  crossKey: Tensor;
  crossValue: Tensor;
}

/**
 * transformers' T5 bucket of a relative position (key − query): exact below max_exact, then
 * logarithmic up to max_distance; bidirectional buckets split by sign. Float steps are rounded to
 * f32 as torch computes them.
 */
export function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  const buckets = bidirectional ? Math.floor(numBuckets / 2) : numBuckets;
  const offset = bidirectional && relative > 0 ? buckets : 0;
  const distance = bidirectional ? Math.abs(relative) : Math.max(-relative, 0);
  const maxExact = Math.floor(buckets / 2);
  if (distance < maxExact) return offset + distance;
  const f = Math.fround;
  const scaled = f(f(f(Math.log(f(distance / maxExact))) / f(Math.log(maxDistance / maxExact))) * (buckets - maxExact));
  return offset + Math.min(maxExact + Math.trunc(scaled), buckets - 1);
}

class T5Attention extends Module {
  constructor(
    readonly config: T5Config,
    readonly isDecoder: boolean,
    readonly hasRelativeBias: boolean,
  ) {
    super();
    const { dModel, numHeads, dKv } = config;
    for (const name of ['q', 'k', 'v']) this.registerModule(name, new Linear(dModel, numHeads * dKv, { bias: false }));
    this.registerModule('o', new Linear(numHeads * dKv, dModel, { bias: false }));
    if (hasRelativeBias) this.registerModule('relative_attention_bias', new Embedding(config.relativeAttentionNumBuckets, numHeads));
  }

  /** Position bias [1, H, T, S] for T queries following `past` cached positions and S keys. */
  computeBias(queryLength: number, keyLength: number, past: number): Tensor {
    const { relativeAttentionNumBuckets: n, relativeAttentionMaxDistance: maxDistance, numHeads } = this.config;
    const lowest = -(queryLength - 1 + past);
    const byRelative = Int32Array.from({ length: keyLength - lowest }, (_, k) => relativePositionBucket(lowest + k, !this.isDecoder, n, maxDistance));
    const buckets = new Int32Array(queryLength * keyLength);
    for (let i = 0; i < queryLength; i++) {
      buckets.set(byRelative.subarray(-lowest - i - past, -lowest - i - past + keyLength), i * keyLength);
    }
    const values = this.child<Embedding>('relative_attention_bias').forward(fromArray(buckets, [queryLength, keyLength]));
    return reshape(permute(values, [2, 0, 1]), [1, numHeads, queryLength, keyLength]);
  }

  /**
   * Self-attention (keys from x, appended to `past`) or, given `source`, cross-attention (keys from
   * the encoder output, or `past` when cached). The position bias is computed here when not given.
   */
  forward(x: Tensor, o: { mask: AttentionMaskSpec; positionBias?: Tensor; past?: LayerKV; source?: Tensor }): { out: Tensor; cache: LayerKV; positionBias?: Tensor } {
    const heads = this.config.numHeads;
    const project = (name: string, t: Tensor) => splitHeads(this.child<Linear>(name).forward(t), heads);
    const q = project('q', x);
    const cache = o.source === undefined
      ? appendKV(o.past, project('k', x), project('v', x))
      : o.past ?? { key: project('k', o.source), value: project('v', o.source) };
    const [, , queryLength] = q.shape as [number, number, number];
    const keyLength = cachedLength(cache);
    const positionBias = o.positionBias ?? (this.hasRelativeBias ? this.computeBias(queryLength, keyLength, keyLength - queryLength) : undefined);
    const attended = scaledDotProductAttention(q, cache.key, cache.value, {
      ...o.mask,
      bias: positionBias,
      scale: 1,
      dropoutP: this.training ? this.config.dropoutRate : 0,
      keyLength: cache.length,
    });
    return { out: this.child<Linear>('o').forward(mergeHeads(attended)), cache, positionBias };
  }
}

/** A pre-norm residual sub-layer around its module `name`: x + dropout(f(name, layer_norm(x))). */
class T5Layer<M extends Module> extends Module {
  constructor(
    config: T5Config,
    private readonly name: string,
    inner: M,
  ) {
    super();
    this.registerModule(name, inner);
    this.registerModule('layer_norm', new RMSNorm(config.dModel, config.layerNormEpsilon));
    this.registerModule('dropout', new Dropout(config.dropoutRate));
  }

  forward<R extends { out: Tensor }>(x: Tensor, f: (inner: M, normed: Tensor) => R): R & { hidden: Tensor } {
    const r = f(this.child<M>(this.name), this.child<RMSNorm>('layer_norm').forward(x));
    return { ...r, hidden: add(x, this.child<Dropout>('dropout').forward(r.out)) };
  }
}

class T5DenseReluDense extends Module {
  private readonly act: Activation;

  constructor(readonly config: T5Config) {
    super();
    const { dModel, dFf } = config;
    for (const name of config.isGatedAct ? ['wi_0', 'wi_1'] : ['wi']) this.registerModule(name, new Linear(dModel, dFf, { bias: false }));
    this.registerModule('wo', new Linear(dFf, dModel, { bias: false }));
    this.registerModule('dropout', new Dropout(config.dropoutRate));
    this.act = activation(config.denseActFn, 'feed_forward_proj');
  }

  forward(x: Tensor): Tensor {
    const linear = (name: string) => this.child<Linear>(name).forward(x);
    const h = this.config.isGatedAct ? mul(this.act(linear('wi_0')), linear('wi_1')) : this.act(linear('wi'));
    return this.child<Linear>('wo').forward(this.child<Dropout>('dropout').forward(h));
  }
}

/** block.N.layer: self-attention, cross-attention (decoder only), feed-forward. */
class T5Block extends Module {
  constructor(config: T5Config, isDecoder: boolean, hasRelativeBias: boolean) {
    super();
    const layers: Module[] = [new T5Layer(config, 'SelfAttention', new T5Attention(config, isDecoder, hasRelativeBias))];
    if (isDecoder) layers.push(new T5Layer(config, 'EncDecAttention', new T5Attention(config, isDecoder, false)));
    layers.push(new T5Layer(config, 'DenseReluDense', new T5DenseReluDense(config)));
    this.registerModule('layer', new ModuleList(layers));
  }
}

interface StackInputs {
  mask: AttentionMaskSpec;
  encoderHidden?: Tensor;
  crossMask?: AttentionMaskSpec;
  /** Per decoder layer: a full cache, or a self-attention prefix only (cross keys are then computed). */
  past?: (T5LayerCache | LayerKV)[];
}

class T5Stack extends Module {
  constructor(
    readonly config: T5Config,
    readonly isDecoder: boolean,
  ) {
    super();
    const count = isDecoder ? config.numDecoderLayers : config.numLayers;
    this.registerModule('block', new ModuleList(Array.from({ length: count }, (_, i) => new T5Block(config, isDecoder, i === 0))));
    this.registerModule('final_layer_norm', new RMSNorm(config.dModel, config.layerNormEpsilon));
    this.registerModule('dropout', new Dropout(config.dropoutRate));
  }

  forward(embeds: Tensor, o: StackInputs): { hidden: Tensor; caches: T5LayerCache[] } {
    const dropout = this.child<Dropout>('dropout');
    let hidden = dropout.forward(embeds);
    let positionBias: Tensor | undefined;
    const caches: T5LayerCache[] = [];
    for (const block of this.child<ModuleList<T5Block>>('block')) {
      const layers = block.child<ModuleList>('layer');
      const attention = (j: number) => layers.at(j) as T5Layer<T5Attention>;
      const past = o.past?.[caches.length];
      const self = attention(0).forward(hidden, (a, h) => a.forward(h, { mask: o.mask, positionBias, past }));
      ({ hidden, positionBias } = self);
      if (this.isDecoder) {
        const crossPast = past !== undefined && 'crossKey' in past ? { key: past.crossKey, value: past.crossValue } : undefined;
        const cross = attention(1).forward(hidden, (a, h) => a.forward(h, { mask: o.crossMask!, source: o.encoderHidden!, past: crossPast }));
        hidden = cross.hidden;
        caches.push({ ...self.cache, crossKey: cross.cache.key, crossValue: cross.cache.value });
      }
      const ff = layers.at(layers.length - 1) as T5Layer<T5DenseReluDense>;
      hidden = ff.forward(hidden, (m, h) => ({ out: m.forward(h) })).hidden;
    }
    return { hidden: dropout.forward(this.child<RMSNorm>('final_layer_norm').forward(hidden)), caches };
  }
}

/** Shared by every T5 class: the config class, the checkpoint keys to drop, label shifting. */
export abstract class T5PreTrainedModel extends PreTrainedModel<T5Config> {
  readonly baseModelPrefix = 'transformer';
  /** Encoder-only models drop a checkpoint's decoder. */
  protected readonly encoderOnly: boolean = false;

  static readonly configClass: ConfigClass<T5Config> = T5Config;

  /** Old checkpoints repeat the shared embedding under each stack and hold an unused cross-attention bias. */
  protected override ignoredCheckpointKeys(): RegExp[] {
    return [
      /^(transformer\.)?(encoder|decoder)\.embed_tokens\.weight$/,
      /^(transformer\.)?decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$/,
      /^lm_head\.weight$/,
      ...(this.encoderOnly ? [/^(transformer\.)?decoder\./] : []),
    ];
  }

  /** Token ids → decoder inputs: shifted right after decoder_start_token_id, -100 replaced by the pad token. */
  shiftRight(ids: Tensor): Tensor {
    const { decoderStartTokenId: start, padTokenId: pad } = this.config;
    for (const [key, v] of [['decoder_start_token_id', start], ['pad_token_id', pad]] as const) {
      if (v === null) throw new ModelConfigError(`config.json: "${key}" must be set to build decoder inputs`);
    }
    if (ids.dtype !== 'int32' || ids.ndim !== 2) {
      throw new ShapeError(`${this.typeName}.forward`, 'labels', `must be int32 [batch, length], got ${ids.dtype} [${ids.shape.join(', ')}]`);
    }
    const [batch, length] = ids.shape as [number, number];
    const src = ids.data();
    const out = Int32Array.from(src, (_, i) => (i % length === 0 ? start! : src[i - 1] === -100 ? pad! : src[i - 1]!));
    return fromArray(out, [batch, length]);
  }

  /** Decoder inputs defaulting to the shifted encoder input ids (T5's QA and classification models). */
  protected decoderIdsOrShifted(inputs: ModelInputs): Tensor | undefined {
    if (inputs.decoderInputIds !== undefined || inputs.decoderInputsEmbeds !== undefined) return inputs.decoderInputIds;
    if (inputs.inputIds === undefined) throw new ShapeError(`${this.typeName}.forward`, 'decoderInputIds', 'must be given when inputIds are not');
    return this.shiftRight(inputs.inputIds);
  }
}

/** Models holding the stacks themselves: shared embedding, encoder and (unless encoder-only) decoder. */
abstract class T5Stacks extends T5PreTrainedModel {
  constructor(config: T5Config, decoder: boolean) {
    super(config);
    this.registerModule('shared', new Embedding(config.vocabSize, config.dModel));
    this.registerModule('encoder', new T5Stack(config, false));
    if (decoder) this.registerModule('decoder', new T5Stack(config, true));
  }

  getInputEmbeddings(): Embedding {
    return this.child<Embedding>('shared');
  }

  /** The decoder takes a self-attention prefix per layer (prefix tuning). */
  override get supportsPastKeyValues(): boolean {
    return !this.encoderOnly;
  }

  protected encode(inputs: ModelInputs): Tensor {
    if (inputs.encoderHiddenStates !== undefined) return inputs.encoderHiddenStates;
    const embeds = embedInputs(this, 'shared', inputs);
    const [batch, length] = embeds.shape as [number, number];
    const mask = { causal: false, attnMask: paddingMask(`${this.typeName}.forward`, inputs.attentionMask, batch, length) };
    return this.child<T5Stack>('encoder').forward(embeds, { mask }).hidden;
  }

  /** The encoder, then the decoder over `decoderInputIds` (or inputs.decoderInputsEmbeds). */
  protected run(inputs: ModelInputs, decoderInputIds: Tensor | undefined): { hidden: Tensor; encoderHidden: Tensor; caches: T5LayerCache[] } {
    const op = `${this.typeName}.forward`;
    const encoderHidden = this.encode(inputs);
    const embeds = embedInputs(this, 'shared', { decoderInputIds, decoderInputsEmbeds: inputs.decoderInputsEmbeds }, true);
    const [batch, queryLength] = embeds.shape as [number, number];
    const past = inputs.pastKeyValues;
    if (past !== undefined && past.length !== this.config.numDecoderLayers) {
      throw new ShapeError(op, 'pastKeyValues', `must hold one T5 decoder cache (self keys/values, cross ones once computed) per decoder layer (${this.config.numDecoderLayers})`);
    }
    const pastLength = cachedLength(past?.[0]);
    const { hidden, caches } = this.child<T5Stack>('decoder').forward(embeds, {
      mask: causalMask(op, { attentionMask: inputs.decoderAttentionMask, batch, queryLength, pastLength }),
      encoderHidden,
      crossMask: { causal: false, attnMask: paddingMask(op, inputs.attentionMask, batch, encoderHidden.shape[1]!) },
      past,
    });
    return { hidden, encoderHidden, caches };
  }
}

export class T5EncoderModel extends T5Stacks {
  protected override readonly encoderOnly = true;

  constructor(config: T5Config) {
    super(config, false);
  }

  forward(inputs: ModelInputs): ModelOutput {
    return { lastHiddenState: this.encode(inputs) };
  }
}

export class T5Model extends T5Stacks {
  constructor(config: T5Config) {
    super(config, true);
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { hidden, encoderHidden, caches } = this.run(inputs, inputs.decoderInputIds);
    return { lastHiddenState: hidden, encoderLastHiddenState: encoderHidden, pastKeyValues: inputs.useCache ? caches : undefined };
  }
}

export class T5ForConditionalGeneration extends T5Stacks {
  constructor(config: T5Config) {
    super(config, true);
    const head = this.registerModule('lm_head', new Linear(config.dModel, config.vocabSize, { bias: false }));
    if (config.tieWordEmbeddings) shareParameter(head, 'weight', this.getInputEmbeddings().weight);
  }

  override getOutputEmbeddings(): Linear {
    return this.child<Linear>('lm_head');
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { labels } = inputs;
    const derived = labels !== undefined && inputs.decoderInputIds === undefined && inputs.decoderInputsEmbeds === undefined;
    const { hidden, encoderHidden, caches } = this.run(inputs, derived ? this.shiftRight(labels) : inputs.decoderInputIds);
    const scaled = this.config.scaleDecoderOutputs ? mul(hidden, this.config.dModel ** -0.5) : hidden;
    const out = tokenClassifierOutput(this.getOutputEmbeddings().forward(scaled), inputs);
    return { ...out, encoderLastHiddenState: encoderHidden, pastKeyValues: inputs.useCache ? caches : undefined };
  }
}

/** Extractive QA over the decoder output (`qa_outputs`); decoder inputs default to the shifted input ids. */
export class T5ForQuestionAnswering extends T5Stacks {
  /** The stacks sit beside the head (no `transformer` child): only qa_outputs may be new. */
  protected override headPrefixes(): string[] {
    return ['qa_outputs'];
  }

  constructor(config: T5Config) {
    super(config, true);
    if (config.numLabels !== 2) throw new ModelConfigError(`config.json: "num_labels" must be 2 (start and end) for question answering, got ${config.numLabels}`);
    this.registerModule('qa_outputs', new Linear(config.dModel, 2));
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { hidden, encoderHidden } = this.run(inputs, this.decoderIdsOrShifted(inputs));
    return { ...questionAnsweringOutput(this.child<Linear>('qa_outputs').forward(hidden), inputs), encoderLastHiddenState: encoderHidden };
  }
}

/** Classifies each sequence from the decoder output at its last <eos> token (`classification_head`). */
export class T5ForSequenceClassification extends T5PreTrainedModel {

  constructor(config: T5Config) {
    super(config);
    this.registerModule('transformer', new T5Model(config));
    this.registerModule('classification_head', new ClassificationHead(config.dModel, config.numLabels, config.classifierDropout));
  }

  getInputEmbeddings(): Embedding {
    return this.child<T5Model>('transformer').getInputEmbeddings();
  }

  forward(inputs: ModelInputs): ModelOutput {
    const op = `${this.typeName}.forward`;
    const { inputIds } = inputs;
    if (inputIds === undefined) throw new ShapeError(op, 'inputIds', 'must be given: the sequence is read at its <eos> tokens');
    const decoderInputIds = this.decoderIdsOrShifted(inputs);
    const { lastHiddenState, encoderLastHiddenState } = this.child<T5Model>('transformer').forward({ ...inputs, decoderInputIds, useCache: false });
    const pooled = selectPositions(lastHiddenState!, lastEosPositions(op, inputIds, this.config.eosTokenIds));
    const logits = this.child<ClassificationHead>('classification_head').forward(pooled);
    return { ...sequenceClassifierOutput(logits, inputs, this.config), encoderLastHiddenState };
  }
}

/** Each row's last <eos> position; every row must hold the same number of them, as transformers requires. */
function lastEosPositions(op: string, ids: Tensor, eosTokenIds: number[]): Int32Array {
  if (eosTokenIds.length === 0) throw new ModelConfigError('config.json: "eos_token_id" must be set to classify sequences');
  const [batch, length] = ids.shape as [number, number];
  const values = ids.data();
  const counts = new Set<number>();
  const last = Int32Array.from({ length: batch }, (_, b) => {
    let count = 0;
    let at = -1;
    for (let t = 0; t < length; t++) if (values[b * length + t] === eosTokenIds[0]) [count, at] = [count + 1, t];
    counts.add(count);
    return at;
  });
  if (counts.size !== 1 || counts.has(0)) throw new ShapeError(op, 'inputIds', 'every sequence must hold the same number (at least one) of <eos> tokens');
  return last;
}

/** Per-token classification over the encoder output (`classifier`). */
export class T5ForTokenClassification extends T5PreTrainedModel {
  protected override readonly encoderOnly = true;

  constructor(config: T5Config) {
    super(config);
    this.registerModule('transformer', new T5EncoderModel(config));
    this.registerModule('dropout', new Dropout(config.classifierDropout));
    this.registerModule('classifier', new Linear(config.dModel, config.numLabels));
  }

  getInputEmbeddings(): Embedding {
    return this.child<T5EncoderModel>('transformer').getInputEmbeddings();
  }

  forward(inputs: ModelInputs): ModelOutput {
    const { lastHiddenState } = this.child<T5EncoderModel>('transformer').forward(inputs);
    const logits = this.child<Linear>('classifier').forward(this.child<Dropout>('dropout').forward(lastHiddenState!));
    return tokenClassifierOutput(logits, inputs);
  }
}
