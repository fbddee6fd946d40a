// LoraModel (PEFT's lora/model.py): injects LoRA layers into a model, per-module ranks and alphas from
// rank_pattern / alpha_pattern, several adapters with PEFT's semantics (added adapters stay inactive), mixed
// adapter batches and add_weighted_adapter.
import { Embedding } from '../../../nn/embedding.js';
import { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError, TargetModulesError, UnsupportedError } from '../../errors.js';
import { patternValue } from '../../utils/other.js';
import { AuxiliaryTrainingWrapper } from '../../utils/wrappers.js';
import { BaseTuner, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { LoraConfig, type LoraSharedConfig } from './config.js';
import { BASE_ADAPTER_NAME, checkInitSupported, checkTargetInit, dispatchDefault, LoraLayer } from './layer.js';
import { type CombinationType, combineFactors, type WeightedFactor } from './weighted-adapter.js';

export type LoraModelOptions = TunerOptions;

export interface WeightedAdapterOptions {
  /** "svd" (default, as PEFT), "linear" (equal ranks) or "cat". With one adapter, "linear" is used. */
  combinationType?: CombinationType;
  /** Rank of an "svd" combination; the largest rank of the inputs when left out. */
  svdRank?: number;
}

/** LoRA options PEFT supports that this library does not (for LoRA and AdaLoRA): refused up front, naming the option. */
export function checkLoraOptionsSupported(config: LoraSharedConfig): void {
  const unsupported: [string, boolean][] = [
    ['target_parameters', (config.targetParameters ?? []).length > 0],
    ['layer_replication', (config.layerReplication ?? []).length > 0],
    ['alora_invocation_tokens', config.aloraInvocationTokens !== null],
    ['arrow_config', config.arrowConfig !== null],
    ['use_bdlora', config.useBdlora !== null],
    ['velora_config', config.veloraConfig !== null],
    ['monteclora_config', config.montecloraConfig !== null],
    ['kasa_config', config.kasaConfig !== null],
    ['use_qalora', config.useQalora],
    ['megatron_config', config.megatronConfig !== null && Object.keys(config.megatronConfig).length > 0],
    ['ensure_weight_tying', config.ensureWeightTying],
  ];
  const used = unsupported.filter(([, on]) => on).map(([name]) => name);
  if (used.length > 0) throw new UnsupportedError(`LoRA options not supported by this library: ${used.join(', ')}`);
}

/** PEFT allows one adapter per model to train biases (LoRA, AdaLoRA, VeRA). */
export function checkSingleBiasAdapter(configs: Iterable<{ bias: string }>): void {
  const withBias = [...configs].filter((c) => c.bias !== 'none');
  if (withBias.length > 1) throw new AdapterError('only one adapter may train biases (bias other than "none"); set bias to "none" for the others');
}

export class LoraModel<M extends Module = Module> extends BaseTuner<LoraConfig, M> {
  protected readonly configClass = LoraConfig;
  /** Prefix of every LoRA parameter container (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'lora_';

  constructor(model: M, config: LoraConfig, adapterName = 'default', options: LoraModelOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof LoraLayer;
  }

  protected checkNewAdapterConfig(config: LoraConfig): void {
    checkLoraOptionsSupported(config);
    checkInitSupported(config.initLoraWeights);
    checkSingleBiasAdapter(this.peftConfig.values());
  }

  protected checkTarget(config: LoraConfig, target: Module, key: string): void {
    const base = target instanceof LoraLayer ? target.getBaseLayer() : target;
    if (!(base instanceof Linear || base instanceof Conv1D || base instanceof Embedding)) {
      throw new TargetModulesError(`target module '${key}' is a ${base.typeName}; LoRA supports Linear, Conv1D and Embedding layers`);
    }
    if (config.loraBias && base instanceof Embedding) throw new UnsupportedError(`${key}: lora_bias is not supported on Embedding layers`);
    checkTargetInit(base, key, config.initLoraWeights, patternValue(config.rankPattern, key, config.r));
  }

  protected createAndReplace(config: LoraConfig, adapterName: string, target: Module, key: string): void {
    const r = patternValue(config.rankPattern, key, config.r);
    const loraAlpha = patternValue(config.alphaPattern, key, config.loraAlpha);
    const options = { r, loraAlpha, generator: this.options.generator, key };
    if (target instanceof LoraLayer) {
      target.updateLayer(adapterName, config, options);
      return;
    }
    this.replaceModule(key, dispatchDefault(target, adapterName, config, options)!, adapterName);
  }

  /**
   * Runs fn with a per-sample adapter choice (`"__base__"`: the base model) on every LoRA layer and auxiliary
   * wrapper: PEFT's forward(..., adapter_names=...). Inference only: the model must be in eval mode.
   */
  withAdapterNames<T>(adapterNames: readonly string[], fn: () => T): T {
    if (this.training) throw new AdapterError('adapterNames (mixed adapter batches) can only be used in eval mode');
    const modules = [...this.model.namedModules()].map(([, m]) => m);
    const layers = modules.filter((m): m is LoraLayer => m instanceof LoraLayer);
    const known = new Set(layers.flatMap((l) => l.availableAdapters()));
    const unknown = [...new Set(adapterNames)].filter((n) => n !== BASE_ADAPTER_NAME && !known.has(n)).sort();
    if (unknown.length > 0) throw new AdapterError(`adapterNames holds adapter(s) that do not exist: ${unknown.join(', ')}`);
    const targets = [...layers, ...modules.filter((m): m is AuxiliaryTrainingWrapper => m instanceof AuxiliaryTrainingWrapper)];
    for (const t of targets) t.batchAdapterNames = adapterNames;
    try {
      return fn();
    } finally {
      for (const t of targets) t.batchAdapterNames = null;
    }
  }

  /**
   * PEFT's add_weighted_adapter for "linear", "cat" and "svd": a new (inactive) adapter `adapterName` combining
   * `adapters` with `weights`. Its config copies the first adapter's with r = lora_alpha = the new rank, no rank or
   * alpha patterns and the union of the target modules. Does nothing if `adapterName` exists.
   */
  addWeightedAdapter(adapters: readonly string[], weights: readonly number[], adapterName: string, options: WeightedAdapterOptions = {}): void {
    if (this.peftConfig.has(adapterName)) return;
    const configs = this.weightedAdapterConfigs(adapters, weights);
    let type = options.combinationType ?? 'svd';
    if (!['linear', 'cat', 'svd'].includes(type)) throw new UnsupportedError(`combinationType '${type}' is not supported; use "linear", "cat" or "svd"`);
    if (adapters.length === 1) type = 'linear';
    const ranks = configs.map((c) => Math.max(c.r, ...Object.values(c.rankPattern)));
    let rank: number;
    if (type === 'linear') {
      if (new Set(ranks).size !== 1) throw new AdapterError(`the linear combination needs adapters of equal rank, got ${ranks.join(', ')}`);
      rank = ranks[0]!;
    } else {
      rank = type === 'cat' ? ranks.reduce((a, b) => a + b, 0) : (options.svdRank ?? Math.max(...ranks));
    }
    const targets = configs.map((c) => c.targetModules);
    let targetModules: string | Set<string>;
    if (targets.every((t) => typeof t === 'string')) targetModules = targets.map((t) => `(${t})`).join('|');
    else if (targets.every((t) => t instanceof Set)) targetModules = new Set(targets.flatMap((t) => [...t]));
    else throw new AdapterError('the adapters to combine must all have target_modules as a regex or all as a list of names');

    const config = Object.assign(Object.create(LoraConfig.prototype) as LoraConfig, configs[0]!, {
      r: rank,
      loraAlpha: rank,
      targetModules,
      rankPattern: {},
      alphaPattern: {},
    });
    this.addAdapter(adapterName, config);
    for (const [name, t] of this.model.namedParameters()) if (name.includes(adapterName)) t.requiresGrad = false;

    for (const [, m] of this.model.namedModules()) {
      if (!(m instanceof LoraLayer) || !m.hasAdapter(adapterName)) continue;
      const factors: WeightedFactor[] = [];
      adapters.forEach((a, i) => {
        if (m.hasAdapter(a)) factors.push({ ...m.factors(a), weight: weights[i]! * m.scaling.get(a)! });
      });
      const target = m.factors(adapterName);
      const combined = combineFactors(type, factors, target.A.shape[0]!, m.inFeatures, m.outFeatures);
      for (const [dst, src] of [[target.A, combined.A], [target.B, combined.B]] as const) {
        if (dst.size !== src.size) throw new AdapterError(`${m.key}: the combined factor has shape [${src.shape.join(', ')}], the new adapter [${dst.shape.join(', ')}]`);
        dst.data().set(src.data());
        src.dispose();
      }
    }
  }
}
