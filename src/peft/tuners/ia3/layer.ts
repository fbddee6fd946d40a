// (IA)³ layers (PEFT's ia3/layer.py) on nn.Linear and GPT-2's Conv1D: per adapter one vector `ia3_l.<adapter>`,
// [out, 1] scaling the layer's output, or [1, in] scaling its input for feedforward modules. Several active adapters
// multiply. Merging scales the weight's output rows (and bias) or input columns; unmerging divides by l + 1e-8, as
// PEFT does, so it is not exact.
import { mul } from '../../../engine/ops/binary.js';
import { randn } from '../../../engine/ops/creation.js';
import { reshape } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ParameterDict } from '../../../nn/containers.js';
import { Conv1D, Linear } from '../../../nn/linear.js';
import { MergeError } from '../../errors.js';
import { warn } from '../../utils/warnings.js';
import { BaseTunerLayer, type MergeOptions, mergeChecked } from '../base-tuner-layer.js';
import type { IA3Config } from './config.js';

/** The config fields a layer reads when an adapter is added. */
export type IA3LayerConfig = Pick<IA3Config, 'initIa3Weights' | 'inferenceMode'>;

/** What PEFT adds to the vector before dividing on unmerge. */
const UNMERGE_EPS = Math.fround(1e-8);

export class IA3Layer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['ia3_l'] as const;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The base weight is stored [in, out] (Conv1D, fan_in_fan_out). */
  readonly fanInFanOut: boolean;

  constructor(
    base: Linear | Conv1D,
    adapterName: string,
    config: IA3LayerConfig,
    /** Scale the input (feedforward modules) rather than the output. */
    readonly isFeedforward: boolean,
    options: { key?: string; generator?: Generator } = {},
  ) {
    super(adapterName, options.key ?? '');
    this.registerModule('base_layer', base);
    this.registerModule('ia3_l', new ParameterDict());
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.fanInFanOut = base instanceof Conv1D;
    this.updateLayer(adapterName, config, options.generator);
  }

  get ia3L(): ParameterDict {
    return this.child<ParameterDict>('ia3_l');
  }

  override hasAdapter(name: string): boolean {
    return this.ia3L.has(name);
  }

  /** Adds an adapter (PEFT's update_layer): ones, or N(0, 1) without init_ia3_weights. */
  updateLayer(adapterName: string, config: IA3LayerConfig, generator?: Generator): void {
    const shape = this.isFeedforward ? [1, this.inFeatures] : [this.outFeatures, 1];
    const l = this.ia3L.set(adapterName, randn(shape, { generator }));
    if (config.initIa3Weights) l.data().fill(1);
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(): void {}

  private get base(): Linear | Conv1D {
    return this.getBaseLayer() as Linear | Conv1D;
  }

  /**
   * Scales the values of the base weight w (or a copy) and bias b by adapter vector l, or divides them by l + 1e-8;
   * the bias only for non-feedforward layers.
   */
  private applyVector(w: Float32Array, b: Float32Array | null, l: Float32Array, invert: boolean): void {
    const [rows, cols] = this.base.weight.shape as [number, number];
    // Output features run along the rows of a Linear weight and the columns of a Conv1D one; input features the other way.
    const alongRows = this.isFeedforward === this.fanInFanOut;
    const apply = (v: number, f: number): number => (invert ? v / Math.fround(f + UNMERGE_EPS) : v * f);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) w[i * cols + j] = apply(w[i * cols + j]!, l[alongRows ? i : j]!);
    }
    if (b !== null && !this.isFeedforward) for (let i = 0; i < b.length; i++) b[i] = apply(b[i]!, l[i]!);
  }

  merge(options: MergeOptions = {}): void {
    for (const adapter of this.adaptersToMerge(options.adapterNames)) {
      const l = this.ia3L.get(adapter);
      if (l === undefined) continue;
      const { weight, bias } = this.base;
      if (weight.dtype !== 'float32') throw new MergeError(this.label, adapter, `the base weight is ${weight.dtype}; merging needs float32`);
      const values = l.data() as Float32Array;
      mergeChecked(this.label, adapter, bias === null ? [weight] : [weight, bias], options.safeMerge ?? false, ([w, b]) => this.applyVector(w!, b ?? null, values, false));
      this.mergedAdapters.push(adapter);
    }
  }

  override unmerge(): void {
    if (this.merged) warn('Unmerge result can be inaccurate for (IA)^3.');
    super.unmerge();
  }

  protected unmergeAdapter(adapter: string): void {
    const l = this.ia3L.get(adapter);
    if (l === undefined) return;
    const { weight, bias } = this.base;
    this.applyVector(weight.data() as Float32Array, bias === null ? null : (bias.data() as Float32Array), l.data() as Float32Array, true);
  }

  /** The product of the active adapters' vectors, flattened; null when none applies. */
  private scaling(): Tensor | null {
    let s: Tensor | null = null;
    for (const adapter of this.activeAdapters) {
      const l = this.ia3L.get(adapter);
      if (l === undefined) continue;
      const flat = reshape(l, [l.size]);
      s = s === null ? flat : mul(s, flat);
    }
    return s;
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, '(IA)³');
    if (inactive !== null) return inactive;
    const base = this.child<Linear | Conv1D>('base_layer');
    const s = this.scaling();
    if (s === null) return base.forward(x);
    return this.isFeedforward ? base.forward(mul(x, s)) : mul(base.forward(x), s);
  }
}
