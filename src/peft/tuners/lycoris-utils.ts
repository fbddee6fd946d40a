// What LoHa and LoKr share (PEFT's tuners/lycoris_utils.py): the config fields, a layer that adds a full-size
// delta weight ΔW (built from the method's factors, times alpha / r) to nn.Linear outputs with rank and module
// dropout in training, merges ΔW into the base weight, and the tuner that injects such layers with per-module
// ranks and alphas from rank_pattern / alpha_pattern. PEFT also adapts Conv1d / Conv2d layers (where
// use_effective_conv2d applies); our models have none, and like PEFT we refuse GPT-2's Conv1D.
import { add, mul } from '../../engine/ops/binary.js';
import { fromArray, rand } from '../../engine/ops/creation.js';
import { linear } from '../../engine/ops/linear.js';
import { noGrad } from '../../engine/autograd.js';
import type { Generator } from '../../engine/random.js';
import type { Tensor } from '../../engine/tensor.js';
import { ParameterDict } from '../../nn/containers.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../config.js';
import { AdapterError } from '../errors.js';
import { bool, fail, field, float, int, listOf, nullable, num, positiveInt, recordOf, str, stringSet, union, type Field, type FieldType, type ParseContext } from '../utils/config-fields.js';
import { patternValue } from '../utils/other.js';
import { checkPatternKeys, checkPatterns, iterablesAsArrays } from '../utils/pattern-checks.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from './base-tuner.js';
import { BaseTunerLayer, type MergeOptions } from './base-tuner-layer.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

/**
 * The fields of a LyCORIS config (PEFT's LycorisConfig plus those LoHa and LoKr both declare), with the method's
 * init_weights type and its own fields.
 */
export function lycorisFields(initWeights: FieldType<unknown>, methodFields: readonly Field[]): readonly Field[] {
  return [
    ...PEFT_CONFIG_FIELDS,
    field('rank_pattern', recordOf(positiveInt), () => ({})),
    field('alpha_pattern', recordOf(num), () => ({})),
    field('r', positiveInt, () => 8),
    field('alpha', num, () => 8),
    field('rank_dropout', float, () => 0.0),
    field('module_dropout', float, () => 0.0),
    field('use_effective_conv2d', bool, () => false),
    ...methodFields,
    field('target_modules', nullable(union(str, stringSet, isString)), () => null),
    field('exclude_modules', nullable(union(str, stringSet, isString)), () => null),
    field('init_weights', initWeights, () => true),
    field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
    field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
    field('modules_to_save', nullable(listOf(str)), () => null),
  ];
}

/** Options shared by `new LoHaConfig(...)` and `new LoKrConfig(...)`; every one defaults as in PEFT. */
export interface LycorisConfigOptions extends PeftConfigOptions {
  /** Rank of the factors. */
  r?: number;
  /** ΔW is scaled by alpha / r. */
  alpha?: number;
  /** In training, each output row of ΔW is dropped with this probability. */
  rankDropout?: number;
  /** In training, the whole adapter is skipped with this probability. */
  moduleDropout?: number;
  /** PEFT's effective decomposition for convolutions; no effect on Linear layers. */
  useEffectiveConv2d?: boolean;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
  /** Rank per module: keys are regexes matched against the end of the module name. */
  rankPattern?: Record<string, number>;
  alphaPattern?: Record<string, number>;
  modulesToSave?: string[] | null;
}

/** What sets LoHa and LoKr configs apart: the peft_type and the fields saved. */
export interface LycorisMethod {
  peftType: 'LOHA' | 'LOKR';
  fields: readonly Field[];
}

export abstract class LycorisConfig<O extends LycorisConfigOptions = LycorisConfigOptions> extends PeftConfig {
  declare rankPattern: Record<string, number>;
  declare alphaPattern: Record<string, number>;
  declare r: number;
  declare alpha: number;
  declare rankDropout: number;
  declare moduleDropout: number;
  declare useEffectiveConv2d: boolean;
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare initWeights: boolean | 'lycoris';
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  declare modulesToSave: string[] | null;
  // Target settings LyCORIS methods do not have; matching reads them as unset.
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: O = {} as O) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  /** The method (a getter: the constructor reads it before a subclass's fields exist). */
  protected abstract get method(): LycorisMethod;

  protected get configFields(): readonly Field[] {
    return this.method.fields;
  }

  /** Builds the config from parsed adapter_config.json (snake_case or camelCase keys). */
  static override fromJSON<T extends LycorisConfig>(this: { prototype: T; name: string }, json: unknown, options: FromJSONOptions = {}): T {
    return PeftConfig.loadJSON(this, this.prototype.method.peftType, json, options);
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = this.method.peftType;
    Object.assign(this, { targetParameters: null, trainableTokenIndices: null });
    for (const [key, p] of [['rank_dropout', this.rankDropout], ['module_dropout', this.moduleDropout]] as const) {
      if (p < 0 || p > 1) fail(key, ctx, `must be between 0 and 1, got ${p}`);
    }
    checkPatterns(this, ctx);
    checkPatternKeys('rank_pattern', this.rankPattern, ctx);
  }
}

/** A [rows, cols] tensor drawn as torch's kaiming_uniform_(a=√5) draws it: U(±1/√cols). */
export function kaimingUniform(shape: [number, number], generator?: Generator): Tensor {
  const bound = 1 / Math.sqrt(shape[1]);
  return rand(shape, { low: -bound, high: bound, generator });
}

/** The config fields a layer reads when an adapter is added. */
export type LycorisLayerConfig = Pick<LycorisConfig, 'rankDropout' | 'moduleDropout' | 'inferenceMode'>;

/** The rank and alpha of one module (after rank_pattern / alpha_pattern) and the random stream for its factors. */
export interface LycorisLayerSettings {
  r: number;
  alpha: number;
  generator?: Generator;
}

/** One draw of U(0, 1). */
function uniform(): number {
  const t = rand([1]);
  const v = t.data()[0]!;
  t.dispose();
  return v;
}

export abstract class LycorisLayer extends BaseTunerLayer {
  // Per-adapter settings, as PEFT's layer attributes of the same names.
  readonly r = new Map<string, number>();
  readonly alpha = new Map<string, number>();
  /** alpha / r. */
  readonly scaling = new Map<string, number>();
  readonly rankDropout = new Map<string, number>();
  readonly moduleDropout = new Map<string, number>();
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(base: Linear, adapterName: string, key: string, containerNames: readonly string[]) {
    super(adapterName, key);
    this.registerModule('base_layer', base);
    for (const name of containerNames) this.registerModule(name, new ParameterDict());
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }

  /** The adapter's entry in factor container `name`, if it has one. */
  protected factor(name: string, adapter: string): Tensor | undefined {
    return this.child<ParameterDict>(name).get(adapter);
  }

  /** Registers `value` as the adapter's entry in factor container `name`. */
  protected setFactor(name: string, adapter: string, value: Tensor): void {
    this.child<ParameterDict>(name).set(adapter, value);
  }

  override hasAdapter(name: string): boolean {
    return this.r.has(name);
  }

  /** Creates and initialises the adapter's factors (PEFT's create_adapter_parameters and reset_adapter_parameters*). */
  protected abstract createFactors(adapterName: string, r: number, config: LycorisLayerConfig, generator?: Generator): void;

  /** ΔW of the adapter, [out, in], alpha / r included; recorded for autograd. */
  abstract deltaWeight(adapter: string): Tensor;

  /** Whether rank dropout divides the kept rows by the fraction kept (LoHa always does; LoKr with rank_dropout_scale). */
  protected abstract rescalesRankDropout(adapter: string): boolean;

  /** Adds an adapter (PEFT's update_layer); it becomes trainable only if it is among the active adapters. */
  updateLayer(adapterName: string, config: LycorisLayerConfig, settings: LycorisLayerSettings): void {
    const { r, alpha } = settings;
    if (!Number.isInteger(r) || r <= 0) throw new AdapterError(`${this.label}: r must be a positive integer, got ${r}`);
    this.r.set(adapterName, r);
    this.alpha.set(adapterName, alpha);
    this.scaling.set(adapterName, alpha / r);
    this.rankDropout.set(adapterName, config.rankDropout);
    this.moduleDropout.set(adapterName, config.moduleDropout);
    this.createFactors(adapterName, r, config, settings.generator);
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    for (const m of [this.r, this.alpha, this.scaling, this.rankDropout, this.moduleDropout]) m.delete(name);
  }

  private get base(): Linear {
    return this.getBaseLayer() as Linear;
  }

  /** Rank dropout's mask over the output rows, [out, 1]: each kept with probability 1 - p, rescaled as the method does. */
  private rankDropoutMask(adapter: string): Tensor {
    const p = this.rankDropout.get(adapter)!;
    const draws = rand([this.outFeatures]);
    const keep = Float32Array.from(draws.data(), (u) => (u > p ? 1 : 0));
    draws.dispose();
    if (this.rescalesRankDropout(adapter)) {
      // As PEFT, dividing by the kept fraction; a mask that keeps nothing gives NaN there too.
      const mean = keep.reduce((s, v) => s + v, 0) / keep.length;
      for (let i = 0; i < keep.length; i++) keep[i] = keep[i]! / mean;
    }
    return fromArray(keep, [this.outFeatures, 1]);
  }

  /** The delta output of one adapter; in training with rank dropout applied to ΔW. */
  private deltaOutput(x: Tensor, adapter: string): Tensor {
    let delta = this.deltaWeight(adapter);
    if (this.training && this.rankDropout.get(adapter)! > 0) delta = mul(delta, this.rankDropoutMask(adapter));
    return linear(x, delta);
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x);
    if (inactive !== null) return inactive;
    let result = this.child<Linear>('base_layer').forward(x);
    for (const adapter of this.activeAdapters) {
      if (!this.hasAdapter(adapter)) continue;
      // Module dropout: in training the adapter is used only when a U(0, 1) draw exceeds module_dropout.
      if (this.training && !(uniform() > this.moduleDropout.get(adapter)!)) continue;
      result = add(result, this.deltaOutput(x, adapter));
    }
    return result;
  }

  merge(options: MergeOptions = {}): void {
    this.mergeIntoWeight(this.base.weight, options, (adapter, w) => {
      const d = noGrad(() => this.deltaWeight(adapter)).data();
      for (let i = 0; i < w.length; i++) w[i] = w[i]! + d[i]!;
    });
  }

  protected unmergeAdapter(adapter: string): void {
    if (!this.hasAdapter(adapter)) return;
    const delta = noGrad(() => this.deltaWeight(adapter));
    const w = this.base.weight.data();
    const d = delta.data();
    for (let i = 0; i < w.length; i++) w[i] = w[i]! - d[i]!;
    delta.dispose();
  }
}

/** A LyCORIS layer class: wraps `base` with a first adapter. */
export type LycorisLayerClass<C> = new (base: Linear, adapterName: string, config: C, settings: LycorisLayerSettings, key: string) => LycorisLayer;

/** What sets the LoHa and LoKr tuners apart. */
export interface LycorisTunerMethod<C extends LycorisConfig> {
  configClass: abstract new (...args: never[]) => C;
  layerClass: LycorisLayerClass<C>;
}

/**
 * PEFT's LycorisTuner: replaces each targeted nn.Linear by the method's layer, with rank and alpha from
 * rank_pattern / alpha_pattern (first matching key, else r / alpha). Default targets are PEFT's LoRA table,
 * which PEFT copies for LoHa and LoKr.
 */
export abstract class LycorisTuner<C extends LycorisConfig, M extends Module = Module> extends BaseTuner<C, M> {
  /** The method (a getter: the constructor injects the first adapter before a subclass's fields exist). */
  protected abstract get method(): LycorisTunerMethod<C>;

  protected get configClass(): abstract new (...args: never[]) => C {
    return this.method.configClass;
  }

  constructor(model: M, config: C, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is LycorisLayer {
    return m instanceof LycorisLayer;
  }

  protected checkNewAdapterConfig(): void {}

  protected checkTarget(config: C, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear], `${config.peftType} supports Linear layers only (as in PEFT, GPT-2's Conv1D is not supported)`);
  }

  protected createAndReplace(config: C, adapterName: string, target: Module, key: string): void {
    const settings = { r: patternValue(config.rankPattern, key, config.r), alpha: patternValue(config.alphaPattern, key, config.alpha), generator: this.options.generator };
    if (target instanceof LycorisLayer) {
      target.updateLayer(adapterName, config, settings);
      return;
    }
    this.replaceModule(key, new this.method.layerClass(target as Linear, adapterName, config, settings, key), adapterName);
  }
}
