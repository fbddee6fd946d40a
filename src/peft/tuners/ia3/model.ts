// IA3Model (PEFT's ia3/model.py): injects (IA)³ layers into the targeted Linear / Conv1D modules, with the per
// model-type default targets and feedforward modules, and combines adapters linearly (add_weighted_adapter).
import { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError, ConfigError } from '../../errors.js';
import { TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING, TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { pyFullmatch } from '../../utils/python-regex.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { IA3Config } from './config.js';
import { IA3Layer } from './layer.js';

/** Whether module `key` is a feedforward module: full regex match, or (list) a plain suffix as PEFT checks it. */
export function isFeedforwardModule(config: Pick<IA3Config, 'feedforwardModules'>, key: string): boolean {
  const ff = config.feedforwardModules;
  if (typeof ff === 'string') return pyFullmatch(ff, key) !== null;
  return [...(ff ?? [])].some((m) => key.endsWith(m));
}

/** The default feedforward modules of IA3Model._prepare_adapter_config, for a model type without them an error. */
function fillDefaultFeedforwardModules(config: IA3Config, modelType: string): void {
  if (config.feedforwardModules !== null) return;
  const ff = TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING[modelType];
  if (ff === undefined) throw new ConfigError('feedforward_modules', `is not set and there are no default (IA)³ feedforward modules for model type '${modelType}'`);
  config.feedforwardModules = new Set(ff);
}

/** Union of sets, or the alternation of regexes, as PEFT combines targets for a weighted adapter. */
function combineTargets(values: (string | Set<string> | null)[], key: string): string | Set<string> {
  if (values.every((v) => typeof v === 'string')) return values.map((v) => `(${v})`).join('|');
  if (values.every((v) => v instanceof Set)) return new Set(values.flatMap((v) => [...v]));
  throw new AdapterError(`all adapters to combine must have ${key} of the same kind (all regexes or all name lists)`);
}

export class IA3Model<M extends Module = Module> extends BaseTuner<IA3Config, M> {
  protected readonly configClass = IA3Config;
  /** Prefix of the (IA)³ parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'ia3_';

  constructor(model: M, config: IA3Config, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  /** PEFT's _prepare_adapter_config: the model type's default targets and feedforward modules where unset. */
  protected override injectAdapter(adapterName: string): void {
    const config = this.peftConfig.get(adapterName)!;
    this.fillDefaultTargets(config, TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING, '(IA)³');
    fillDefaultFeedforwardModules(config, this.modelType ?? 'custom');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof IA3Layer;
  }

  protected checkNewAdapterConfig(): void {}

  protected checkTarget(_config: IA3Config, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear, Conv1D], '(IA)³ supports Linear and Conv1D layers');
  }

  protected createAndReplace(config: IA3Config, adapterName: string, target: Module, key: string): void {
    if (target instanceof IA3Layer) {
      target.updateLayer(adapterName, config, this.options.generator);
      return;
    }
    const base = target as Linear | Conv1D;
    matchFanInFanOut(base, config, key);
    this.replaceModule(key, new IA3Layer(base, adapterName, config, isFeedforwardModule(config, key), { key, generator: this.options.generator }), adapterName);
  }

  /**
   * PEFT's add_weighted_adapter for (IA)³: a new (inactive, frozen) adapter whose vectors are Σ weight · vector of
   * `adapters`, targeting the union of their targets and feedforward modules. Does nothing if the name exists.
   */
  addWeightedAdapter(adapters: readonly string[], weights: readonly number[], adapterName: string): void {
    if (this.peftConfig.has(adapterName)) return;
    const configs = this.weightedAdapterConfigs(adapters, weights);
    const config = Object.assign(Object.create(IA3Config.prototype) as IA3Config, configs[0]!, {
      targetModules: combineTargets(configs.map((c) => c.targetModules), 'target_modules'),
      feedforwardModules: combineTargets(configs.map((c) => c.feedforwardModules), 'feedforward_modules'),
    });
    this.addAdapter(adapterName, config);
    for (const [, m] of this.model.namedModules()) {
      if (!(m instanceof IA3Layer) || !m.hasAdapter(adapterName)) continue;
      const target = m.ia3L.get(adapterName)!;
      target.requiresGrad = false;
      const out = target.data();
      out.fill(0);
      adapters.forEach((a, i) => {
        const src = m.ia3L.get(a)?.data();
        if (src !== undefined) for (let j = 0; j < out.length; j++) out[j] = out[j]! + src[j]! * weights[i]!;
      });
    }
  }
}
