// LoRA layers with PEFT's module layout, so that parameter and state-dict names match PEFT's: the wrapped layer as
// `base_layer`, then `lora_dropout`, `lora_A`, `lora_B` (ModuleDicts of Dropout/Identity and bias-free Linear),
// `lora_embedding_A` / `lora_embedding_B` (ParameterDicts) and `lora_magnitude_vector` (DoRA), each keyed by adapter.
// LoraLinear wraps nn.Linear and GPT-2's Conv1D (weight stored [in, out]), LoraEmbedding wraps nn.Embedding.
// Every adapter is a pair A [r, in], B [out, r]; the forward adds scaling · B·A·x into the base output's memory.
import { totalmem } from 'node:os';
import { add, div, mul, sub } from '../../../engine/ops/binary.js';
import { fromArray, randn, zeros } from '../../../engine/ops/creation.js';
import { embedding, indexSelect } from '../../../engine/ops/indexing.js';
import { linear } from '../../../engine/ops/linear.js';
import { transpose, unsqueeze } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ModuleDict, ParameterDict } from '../../../nn/containers.js';
import { Dropout } from '../../../nn/dropout.js';
import { Embedding } from '../../../nn/embedding.js';
import { Identity } from '../../../nn/identity.js';
import { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError, MergeError, UnsupportedError } from '../../errors.js';
import { fromTensor, type Mat, transpose as transposeMat } from '../../utils/linalg.js';
import { warn } from '../../utils/warnings.js';
import { allFinite, BaseTunerLayer, type MergeOptions, nonFiniteMergeWarning } from '../base-tuner-layer.js';
import type { InitLoraWeights, LoraConfig } from './config.js';
import { DoraLayer, doraWeightNorm } from './dora.js';
import { type FactorInit, oloraInit, orthogonalInit, pissaInit } from './init.js';
import { FUSED_MAX_RANK, loraLinear } from './fused-linear.js';
import { addLowRank, addProductInto, cloneTensor, type RowRun, scaleOutputFeatures } from './low-rank.js';

/** The config fields a layer reads when an adapter is added. */
export type LoraLayerConfig = Pick<LoraConfig, 'loraDropout' | 'initLoraWeights' | 'useRslora' | 'loraBias' | 'useDora' | 'inferenceMode'>;

export interface UpdateLayerOptions {
  r: number;
  loraAlpha: number;
  /** Random stream for the adapter's initial values (the default generator when left out). */
  generator?: Generator;
}

export interface LoraForwardOptions {
  /** One adapter name per sample of the batch (`"__base__"`: none); each adapter is applied to its samples only. */
  adapterNames?: readonly string[];
}

type TensorLayer = Module & { forward(x: Tensor): Tensor };

/** The name that selects no adapter in a mixed batch. */
export const BASE_ADAPTER_NAME = '__base__';

const UNSUPPORTED_INITS = ['corda', 'loftq', 'mica'];

/** Throws for init_lora_weights values that need machinery this library does not have. */
export function checkInitSupported(init: InitLoraWeights): void {
  if (typeof init === 'string' && UNSUPPORTED_INITS.includes(init.toLowerCase())) {
    throw new UnsupportedError(
      `init_lora_weights "${init}" is not supported; use true, false, "gaussian", "pissa", "pissa_niter_<n>", "olora", ` +
        '"orthogonal", "eva" (B = 0; the data-driven step is not implemented) or "lora_ga" (falls back to true as PEFT does without gradients)',
    );
  }
}

/**
 * Throws if an adapter with init `init` and rank r cannot be added to `base`; LoraModel runs it on every target
 * before changing any layer.
 */
export function checkTargetInit(base: Module, key: string, init: InitLoraWeights, r: number): void {
  checkInitSupported(init);
  if (typeof init !== 'string' || base instanceof Embedding) return;
  const name = init.toLowerCase();
  if (name === 'orthogonal' && r % 2 !== 0) throw new UnsupportedError(`${key}: orthogonal initialisation needs an even rank, got r=${r}`);
  if (!name.startsWith('pissa') && name !== 'olora') return;
  if (name === 'olora' && base instanceof Conv1D) {
    throw new UnsupportedError(`${key}: OLoRA is not supported on Conv1D / fan_in_fan_out layers (PEFT factorises the stored [in, out] weight there)`);
  }
  const shape = base.parameter('weight')?.shape ?? [];
  const k = Math.min(...shape);
  if (r > k) throw new UnsupportedError(`${key}: init_lora_weights "${init}" needs r <= min(in, out) = ${k}, got r=${r}`);
}

/** Consecutive samples of one adapter become one run of rows. */
function rowRuns(samples: readonly number[], rowsPerSample: number): RowRun[] {
  const runs: RowRun[] = [];
  samples.forEach((sample, j) => {
    const last = runs[runs.length - 1];
    if (last !== undefined && j > 0 && samples[j - 1] === sample - 1) last.count += rowsPerSample;
    else runs.push({ src: j * rowsPerSample, dst: sample * rowsPerSample, count: rowsPerSample });
  });
  return runs;
}

/** Sample indices per adapter name, in order of first appearance. */
function groupSamples(names: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  names.forEach((n, i) => {
    const g = groups.get(n);
    if (g === undefined) groups.set(n, [i]);
    else g.push(i);
  });
  return groups;
}

function writeMat(t: Tensor, m: Mat, transposed = false): void {
  const src = transposed ? transposeMat(m) : m;
  if (src.rows * src.cols !== t.size) throw new AdapterError(`cannot write a ${src.rows}x${src.cols} matrix into a tensor of shape [${t.shape.join(', ')}]`);
  t.data().set(Float32Array.from(src.data));
}

export abstract class LoraLayer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['lora_A', 'lora_B', 'lora_embedding_A', 'lora_embedding_B', 'lora_magnitude_vector'] as const;
  // Per-adapter settings, as PEFT's layer attributes of the same names.
  readonly r = new Map<string, number>();
  readonly loraAlpha = new Map<string, number>();
  /** lora_alpha / r, or lora_alpha / √r with use_rslora. */
  readonly scaling = new Map<string, number>();
  readonly useRslora = new Map<string, boolean>();
  readonly loraBias = new Map<string, boolean>();
  /** Weight norms of merged DoRA adapters, kept to undo the merge exactly. */
  private readonly mergedNorms = new Map<string, Tensor>();

  constructor(
    base: Module,
    adapterName: string,
    key: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    /** The base weight is stored [in, out] (Conv1D / fan_in_fan_out, embeddings) rather than [out, in]. */
    readonly weightInOut: boolean,
  ) {
    super(adapterName, key);
    this.registerModule('base_layer', base);
    this.registerModule('lora_dropout', new ModuleDict<Dropout | Identity>());
    this.registerModule('lora_A', new ModuleDict<Linear>());
    this.registerModule('lora_B', new ModuleDict<Linear>());
    this.registerModule('lora_embedding_A', new ParameterDict());
    this.registerModule('lora_embedding_B', new ParameterDict());
    this.registerModule('lora_magnitude_vector', new ModuleDict<DoraLayer>());
  }

  get loraDropout(): ModuleDict<Dropout | Identity> {
    return this.child('lora_dropout');
  }

  get loraA(): ModuleDict<Linear> {
    return this.child('lora_A');
  }

  get loraB(): ModuleDict<Linear> {
    return this.child('lora_B');
  }

  get loraEmbeddingA(): ParameterDict {
    return this.child('lora_embedding_A');
  }

  get loraEmbeddingB(): ParameterDict {
    return this.child('lora_embedding_B');
  }

  get loraMagnitudeVector(): ModuleDict<DoraLayer> {
    return this.child('lora_magnitude_vector');
  }

  /** The base layer's weight (PEFT's `layer.weight`). */
  get weight(): Tensor {
    const w = this.getBaseLayer().parameter('weight');
    if (w === null) throw new AdapterError(`${this.label}: the base layer has no weight`);
    return w;
  }

  get bias(): Tensor | null {
    return this.getBaseLayer().parameter('bias');
  }

  override hasAdapter(name: string): boolean {
    return this.r.has(name);
  }

  /** The adapter's A [r, in] and B [out, r] (for embeddings, lora_embedding_A / lora_embedding_B). */
  abstract factors(adapter: string): { A: Tensor; B: Tensor };

  /** Adds an adapter (PEFT's update_layer); it becomes trainable only if it is among the active adapters. */
  abstract updateLayer(adapterName: string, config: LoraLayerConfig, options: UpdateLayerOptions): void;

  protected recordSettings(adapterName: string, config: LoraLayerConfig, options: UpdateLayerOptions): void {
    const { r, loraAlpha } = options;
    if (!Number.isInteger(r) || r <= 0) throw new AdapterError(`${this.label}: r must be a positive integer, got ${r}`);
    const factorBytes = r * (this.inFeatures + this.outFeatures) * Float32Array.BYTES_PER_ELEMENT;
    if (factorBytes > totalmem()) {
      throw new AdapterError(`${this.label}: r=${r} needs ${(factorBytes / 2 ** 30).toFixed(1)} GiB for this layer's A and B, more than this machine's ${(totalmem() / 2 ** 30).toFixed(1)} GiB of memory`);
    }
    checkTargetInit(this.getBaseLayer(), this.label, config.initLoraWeights, r);
    this.r.set(adapterName, r);
    this.loraAlpha.set(adapterName, loraAlpha);
    this.scaling.set(adapterName, config.useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r);
    this.useRslora.set(adapterName, config.useRslora);
    this.loraBias.set(adapterName, config.loraBias);
    this.loraDropout.set(adapterName, config.loraDropout > 0 ? new Dropout(config.loraDropout) : new Identity());
  }

  /** After the factors exist: DoRA's magnitude, then the active adapters' trainability. */
  protected finishUpdate(adapterName: string, config: LoraLayerConfig): void {
    if (config.useDora) this.initDora(adapterName);
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  /** Sets the DoRA magnitude of an adapter to the norms of W + scaling·B·A (PEFT's DoraLinearLayer.update_layer). */
  initDora(adapterName: string): void {
    const { A, B } = this.factors(adapterName);
    const norm = doraWeightNorm(this.weight, A, B, this.scaling.get(adapterName)!, this.weightInOut);
    this.loraMagnitudeVector.set(adapterName, new DoraLayer(norm));
  }

  protected forgetAdapter(name: string): void {
    for (const m of [this.r, this.loraAlpha, this.scaling, this.useRslora, this.loraBias]) m.delete(name);
    this.loraDropout.delete(name);
  }

  /** Applies a weight-derived initialisation: writes A, B and, where given, the residual base weight. */
  protected applyFactorInit(adapterName: string, init: FactorInit): void {
    const { A, B } = this.factors(adapterName);
    writeMat(A, init.A);
    writeMat(B, init.B);
    if (init.residual !== undefined) writeMat(this.weight, init.residual, this.weightInOut);
  }

  /** The base weight as an [out, in] float64 matrix. */
  protected baseMatrix(): Mat {
    return fromTensor(this.weight, this.weightInOut);
  }

  /** scaling · B·A in the base weight's layout ([out, in], or [in, out] for weightInOut). */
  getDeltaWeight(adapter: string): Tensor {
    const { A, B } = this.factors(adapter);
    const delta = zeros(this.weight.shape);
    addProductInto(delta, A, B, this.scaling.get(adapter)!, this.weightInOut);
    return delta;
  }

  /** The base weight with every merged adapter taken out again (a copy), as DoRA norms need it. */
  private unmergedWeight(): Tensor {
    const w = cloneTensor(this.weight);
    for (const a of [...this.mergedAdapters].reverse()) this.undoMerge(w, a);
    return w;
  }

  private doraFactor(adapter: string, norm: Tensor): Float32Array {
    const m = this.loraMagnitudeVector.get(adapter)!.weight.data();
    const n = norm.data();
    return Float32Array.from(m, (v, i) => v / n[i]!);
  }

  /** Adds the adapter to W (the base weight or a copy of it). */
  private applyMerge(W: Tensor, adapter: string): void {
    const { A, B } = this.factors(adapter);
    const s = this.scaling.get(adapter)!;
    if (!this.loraMagnitudeVector.has(adapter)) {
      addProductInto(W, A, B, s, this.weightInOut);
      return;
    }
    const base = this.merged ? this.unmergedWeight() : this.weight;
    const norm = doraWeightNorm(base, A, B, s, this.weightInOut);
    if (base !== this.weight) base.dispose();
    this.mergedNorms.get(adapter)?.dispose();
    this.mergedNorms.set(adapter, norm);
    addProductInto(W, A, B, s, this.weightInOut);
    scaleOutputFeatures(W, this.doraFactor(adapter, norm), this.weightInOut);
  }

  /** Takes a merged adapter out of W (the base weight or a copy of it). */
  private undoMerge(W: Tensor, adapter: string): void {
    const { A, B } = this.factors(adapter);
    const norm = this.mergedNorms.get(adapter);
    if (norm !== undefined) scaleOutputFeatures(W, this.doraFactor(adapter, norm), this.weightInOut, true);
    addProductInto(W, A, B, -this.scaling.get(adapter)!, this.weightInOut);
  }

  private loraBiasTerm(adapter: string): Tensor | null {
    return this.loraBias.get(adapter) === true ? (this.loraB.get(adapter)?.bias ?? null) : null;
  }

  merge(options: MergeOptions = {}): void {
    for (const adapter of this.adaptersToMerge(options.adapterNames)) {
      if (!this.hasAdapter(adapter)) continue;
      const W = this.weight;
      if (W.dtype !== 'float32') throw new MergeError(this.label, adapter, `the base weight is ${W.dtype}; merging needs float32`);
      const loraBias = this.loraBiasTerm(adapter);
      const baseBias = this.bias;
      if (loraBias !== null && baseBias === null) throw new MergeError(this.label, adapter, 'lora_bias needs a bias on the base layer to merge into');
      if (options.safeMerge ?? false) {
        const copy = cloneTensor(W);
        this.applyMerge(copy, adapter);
        const biasCopy = loraBias === null ? null : cloneTensor(baseBias!);
        if (biasCopy !== null) addScaled(biasCopy, loraBias!, this.scaling.get(adapter)!);
        if (!allFinite(copy.data()) || (biasCopy !== null && !allFinite(biasCopy.data()))) {
          copy.dispose();
          biasCopy?.dispose();
          this.mergedNorms.get(adapter)?.dispose();
          this.mergedNorms.delete(adapter);
          throw new MergeError(this.label, adapter, 'the merged weights hold NaN or infinite values; the adapter seems to be broken');
        }
        W.data().set(copy.data());
        copy.dispose();
        if (biasCopy !== null) {
          baseBias!.data().set(biasCopy.data());
          biasCopy.dispose();
        }
      } else {
        this.applyMerge(W, adapter);
        if (loraBias !== null) addScaled(baseBias!, loraBias, this.scaling.get(adapter)!);
        if (!allFinite(W.data()) || (loraBias !== null && !allFinite(baseBias!.data()))) warn(nonFiniteMergeWarning(this.label, adapter));
      }
      this.mergedAdapters.push(adapter);
    }
  }

  protected unmergeAdapter(adapter: string): void {
    if (!this.hasAdapter(adapter)) return;
    this.undoMerge(this.weight, adapter);
    this.mergedNorms.get(adapter)?.dispose();
    this.mergedNorms.delete(adapter);
    const loraBias = this.loraBiasTerm(adapter);
    if (loraBias !== null) addScaled(this.bias!, loraBias, -this.scaling.get(adapter)!);
  }

  forward(x: Tensor, options: LoraForwardOptions = {}): Tensor {
    const names = options.adapterNames ?? this.batchAdapterNames;
    const base = this.child<TensorLayer>('base_layer');
    if (this.disableAdapters) {
      if (this.merged) this.unmerge();
      return base.forward(x);
    }
    if (names !== null) return this.mixedBatchForward(x, names);
    if (this.merged) return base.forward(x);
    const fused = this.fusedForward(x);
    if (fused !== null) return fused;
    let result = base.forward(x);
    for (const adapter of this.activeAdapters) {
      if (!this.hasAdapter(adapter)) continue;
      result = this.loraMagnitudeVector.has(adapter) ? this.doraForward(x, result, adapter) : this.loraForward(x, result, adapter);
    }
    return result;
  }

  /** The whole forward as one fused op when the layer allows it (see LoraLinear), else null. */
  protected fusedForward(_x: Tensor): Tensor | null {
    return null;
  }

  /** The rank-r activation of adapter `adapter` for input x: dropout(x)·Aᵀ (Linear) or the rows of Aᵀ at ids (Embedding). */
  protected abstract lowRankInput(x: Tensor, adapter: string, withDropout: boolean): Tensor;

  private loraForward(x: Tensor, result: Tensor, adapter: string, runs?: RowRun[]): Tensor {
    const h = this.lowRankInput(x, adapter, true);
    return addLowRank(result, h, this.factors(adapter).B, this.scaling.get(adapter)!, { bias: this.loraBiasTerm(adapter), runs });
  }

  /** Whether DoRA must recompute the base output from dropped-out inputs (training with a real dropout). */
  protected abstract doraUsesDropout(adapter: string): boolean;

  /**
   * DoRA with f = m / ‖W + s·B·A‖: y ← f ⊙ (y − b + s·B·A·x) + b. In training with dropout, the base part is
   * recomputed from the dropped-out input without bias: y ← y + (f − 1) ⊙ W·x_d + f ⊙ s·B·A·x_d.
   */
  private doraForward(x: Tensor, result: Tensor, adapter: string): Tensor {
    const { A, B } = this.factors(adapter);
    const s = this.scaling.get(adapter)!;
    const norm = doraWeightNorm(this.weight, A, B, s, this.weightInOut);
    const f = div(this.loraMagnitudeVector.get(adapter)!.weight, norm);
    if (this.doraUsesDropout(adapter)) {
      const xd = this.loraDropout.get(adapter)!.forward(x);
      const baseOut = linear(xd, this.weight, null, { weightInOut: this.weightInOut });
      const h = this.lowRankInput(xd, adapter, false);
      const delta = addLowRank(mul(baseOut, sub(f, 1)), h, mul(B, unsqueeze(f, 1)), s);
      return add(result, delta);
    }
    const h = this.lowRankInput(x, adapter, false);
    const scaled = mul(addLowRank(result, h, B, s), f);
    const bias = this.bias;
    return bias === null ? scaled : sub(scaled, mul(bias, sub(f, 1)));
  }

  private mixedBatchForward(x: Tensor, names: readonly string[]): Tensor {
    if (x.shape[0] !== names.length) {
      throw new AdapterError(`${this.label}: adapterNames has ${names.length} entries but the batch has ${x.shape[0]} samples`);
    }
    if (this.merged) throw new AdapterError(`${this.label}: adapterNames cannot be used while adapters are merged; unmerge first`);
    for (const n of names) {
      if (this.loraMagnitudeVector.has(n)) throw new AdapterError(`${this.label}: adapterNames cannot select DoRA adapters ('${n}')`);
    }
    let result = this.child<TensorLayer>('base_layer').forward(x);
    const rowsPerSample = result.size / (names.length * this.outFeatures);
    for (const [adapter, samples] of groupSamples(names)) {
      if (adapter === BASE_ADAPTER_NAME || !this.hasAdapter(adapter)) continue;
      const whole = samples.length === names.length;
      const sub = whole ? x : indexSelect(x, 0, fromArray(Int32Array.from(samples)));
      result = this.loraForward(sub, result, adapter, rowRuns(samples, rowsPerSample));
    }
    return result;
  }
}

function addScaled(target: Tensor, src: Tensor, alpha: number): void {
  const t = target.data();
  const s = src.data();
  for (let i = 0; i < t.length; i++) t[i] = t[i]! + alpha * s[i]!;
}

/** LoRA on nn.Linear or GPT-2's Conv1D (PEFT's lora.Linear). */
export class LoraLinear extends LoraLayer {
  /** `config.fanInFanOut` (PEFT's fan_in_fan_out) must be true for Conv1D, whose weight is stored [in, out], false for Linear. */
  constructor(base: Linear | Conv1D, adapterName: string, config: LoraLayerConfig & Pick<LoraConfig, 'fanInFanOut'>, options: UpdateLayerOptions & { key?: string }) {
    super(base, adapterName, options.key ?? '', base.inFeatures, base.outFeatures, config.fanInFanOut);
    if (config.fanInFanOut !== base instanceof Conv1D) {
      throw new AdapterError(`${this.label}: fan_in_fan_out must be ${base instanceof Conv1D} for a ${base.typeName} base layer (dispatchDefault corrects it)`);
    }
    this.updateLayer(adapterName, config, options);
  }

  factors(adapter: string): { A: Tensor; B: Tensor } {
    const a = this.loraA.get(adapter);
    const b = this.loraB.get(adapter);
    if (a === undefined || b === undefined) throw new AdapterError(`${this.label}: no adapter '${adapter}' (has ${this.availableAdapters().join(', ') || 'none'})`);
    return { A: a.weight, B: b.weight };
  }

  updateLayer(adapterName: string, config: LoraLayerConfig, options: UpdateLayerOptions): void {
    this.recordSettings(adapterName, config, options);
    const { r } = options;
    const gen = { generator: options.generator };
    if (config.loraBias && this.bias === null) {
      warn(`${this.label}: lora_bias is set but the ${this.getBaseLayer().typeName} layer has no bias, so the adapter cannot be merged.`);
    }
    this.loraA.set(adapterName, new Linear(this.inFeatures, r, { bias: false, ...gen }));
    this.loraB.set(adapterName, new Linear(r, this.outFeatures, { bias: config.loraBias, ...gen }));
    this.initFactors(adapterName, config.initLoraWeights, options.generator);
    this.finishUpdate(adapterName, config);
  }

  private initFactors(adapter: string, init: InitLoraWeights, generator?: Generator): void {
    const { A, B } = this.factors(adapter);
    const r = this.r.get(adapter)!;
    const scaling = this.scaling.get(adapter)!;
    const zeroB = (): void => {
      B.data().fill(0);
      this.loraB.get(adapter)!.bias?.data().fill(0);
    };
    if (init === false) return; // nn.Linear's own initialisation for both factors
    if (typeof init === 'string' && init.startsWith('pissa')) {
      const niter = init === 'pissa' ? undefined : Number(init.slice('pissa_niter_'.length));
      this.applyFactorInit(adapter, pissaInit(this.baseMatrix(), r, scaling, niter, generator));
    } else if (typeof init === 'string' && init.toLowerCase() === 'olora') {
      this.applyFactorInit(adapter, oloraInit(this.baseMatrix(), r, scaling));
    } else if (init === 'orthogonal') {
      this.applyFactorInit(adapter, orthogonalInit(this.inFeatures, this.outFeatures, r, generator));
    } else if (init === 'eva') {
      zeroB();
    } else if (typeof init === 'string' && init.toLowerCase() === 'gaussian') {
      const g = randn(A.shape, { std: 1 / r, generator });
      A.data().set(g.data());
      g.dispose();
      zeroB();
    } else {
      // true, and lora_ga without recorded gradients: A keeps nn.Linear's kaiming-uniform(a=√5) draw, B = 0.
      zeroB();
    }
  }

  protected lowRankInput(x: Tensor, adapter: string, withDropout: boolean): Tensor {
    const xd = withDropout ? this.loraDropout.get(adapter)!.forward(x) : x;
    return linear(xd, this.factors(adapter).A);
  }

  /**
   * loraLinear (one node, thin products fused) for the common case: one plain LoRA adapter of rank ≤ 64 (no DoRA, no
   * lora_bias, no dropout in training) on a frozen float32 Linear / Conv1D.
   */
  protected override fusedForward(x: Tensor): Tensor | null {
    const active = this.activeAdapters.filter((a) => this.hasAdapter(a));
    if (active.length !== 1 || x.dtype !== 'float32') return null;
    const adapter = active[0]!;
    const dropout = this.loraDropout.get(adapter);
    if (this.loraMagnitudeVector.has(adapter) || this.loraBias.get(adapter) === true || (this.training && !(dropout instanceof Identity))) return null;
    const base = this.child('base_layer');
    if (!(base instanceof Linear || base instanceof Conv1D)) return null;
    const { weight, bias } = base;
    if (weight.dtype !== 'float32' || weight.requiresGrad || bias?.requiresGrad === true) return null;
    const { A, B } = this.factors(adapter);
    if (A.shape[0]! > FUSED_MAX_RANK) return null;
    return loraLinear(x, weight, bias, A, B, this.scaling.get(adapter)!, this.weightInOut);
  }

  protected doraUsesDropout(adapter: string): boolean {
    return this.training && !(this.loraDropout.get(adapter) instanceof Identity);
  }
}

/** LoRA on nn.Embedding (PEFT's lora.Embedding): A [r, num_embeddings], B [embedding_dim, r]; no dropout. */
export class LoraEmbedding extends LoraLayer {
  constructor(base: Embedding, adapterName: string, config: LoraLayerConfig, options: UpdateLayerOptions & { key?: string }) {
    super(base, adapterName, options.key ?? '', base.numEmbeddings, base.embeddingDim, true);
    this.updateLayer(adapterName, config, options);
  }

  factors(adapter: string): { A: Tensor; B: Tensor } {
    const A = this.loraEmbeddingA.get(adapter);
    const B = this.loraEmbeddingB.get(adapter);
    if (A === undefined || B === undefined) throw new AdapterError(`${this.label}: no adapter '${adapter}' (has ${this.availableAdapters().join(', ') || 'none'})`);
    return { A, B };
  }

  updateLayer(adapterName: string, config: LoraLayerConfig, options: UpdateLayerOptions): void {
    if (config.loraBias) throw new UnsupportedError(`${this.label}: lora_bias is not supported on Embedding layers`);
    this.recordSettings(adapterName, config, options);
    const { r, generator } = options;
    const A = this.loraEmbeddingA.set(adapterName, randn([r, this.inFeatures], { generator }));
    this.loraEmbeddingB.set(adapterName, randn([this.outFeatures, r], { generator }));
    // Every truthy init (true, "gaussian", and the weight-derived ones PEFT does not run on embeddings): A = 0, B ~ N(0, 1).
    if (config.initLoraWeights !== false) A.data().fill(0);
    this.finishUpdate(adapterName, config);
  }

  private get paddingIdx(): number | undefined {
    return (this.getBaseLayer() as Embedding).paddingIdx;
  }

  protected lowRankInput(ids: Tensor, adapter: string): Tensor {
    const table = transpose(this.factors(adapter).A);
    const pad = this.paddingIdx;
    return embedding(table, ids, pad === undefined ? {} : { paddingIdx: pad });
  }

  protected doraUsesDropout(): boolean {
    return false;
  }
}

/**
 * Sets the config's fan_in_fan_out to what the target stores (true for Conv1D, false for Linear), warning when it
 * was set otherwise, as PEFT's dispatch does; the corrected value is what gets saved.
 */
export function matchFanInFanOut(target: Linear | Conv1D, config: { fanInFanOut: boolean }, key = 'target'): void {
  const conv1d = target instanceof Conv1D;
  if (config.fanInFanOut === conv1d) return;
  warn(`${key}: fan_in_fan_out is ${config.fanInFanOut} but the target is a ${conv1d ? 'Conv1D' : 'Linear'} layer; setting fan_in_fan_out to ${conv1d}.`);
  config.fanInFanOut = conv1d;
}

/** What replaces a targeted module (PEFT's dispatch_default); null for a layer type LoRA does not support. */
export function dispatchDefault(
  target: Module,
  adapterName: string,
  config: LoraLayerConfig & Pick<LoraConfig, 'fanInFanOut'>,
  options: UpdateLayerOptions & { key?: string },
): LoraLayer | null {
  if (target instanceof Embedding) return new LoraEmbedding(target, adapterName, config, options);
  if (!(target instanceof Linear || target instanceof Conv1D)) return null;
  matchFanInFanOut(target, config, options.key);
  return new LoraLinear(target, adapterName, config, options);
}
