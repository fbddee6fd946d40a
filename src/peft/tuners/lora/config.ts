// LoraConfig: every field PEFT 0.21 saves for LoRA (41 keys with the shared ones), PEFT's defaults, and the
// checks and adjustments of LoraConfig.__post_init__.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import {
  bool,
  fail,
  field,
  float,
  int,
  jsonObject,
  listOf,
  literal,
  nullable,
  num,
  positiveInt,
  recordOf,
  str,
  stringSet,
  union,
  type Field,
  type FieldType,
  type JsonValue,
  type ParseContext,
} from '../../utils/config-fields.js';
import { PeftType, TaskType } from '../../utils/peft-types.js';
import { checkPatternKeys, checkPatterns, checkRegexTargetLayers, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { warn } from '../../utils/warnings.js';
import {
  arrowConfigType,
  bdLoraConfigType,
  cordaConfigType,
  evaConfigType,
  kasaConfigType,
  loftqConfigType,
  loraGaConfigType,
  montecloraConfigType,
  veloraConfigType,
  type ArrowConfig,
  type BdLoraConfig,
  type CordaConfig,
  type EvaConfig,
  type KasaConfig,
  type LoftQConfig,
  type LoraGAConfig,
  type MontecloraConfig,
  type VeloraConfig,
} from './sub-configs.js';

export type LoraBias = 'none' | 'all' | 'lora_only';

export type InitLoraWeights =
  | boolean
  | 'gaussian'
  | 'eva'
  | 'olora'
  | 'pissa'
  | `pissa_niter_${number}`
  | 'corda'
  | 'loftq'
  | 'orthogonal'
  | 'mica'
  | 'lora_ga';

const INIT_SCHEMES = /^(?:gaussian|olora|mica)$/i;
const EXACT_INIT = /^(?:pissa|pissa_niter_\d+|corda|loftq|eva|orthogonal|lora_ga)$/;

const initLoraWeightsType: FieldType<InitLoraWeights> = {
  expected: 'true, false, "gaussian", "eva", "olora", "pissa", "pissa_niter_<n>", "corda", "loftq", "orthogonal", "mica" or "lora_ga"',
  parse(v, path, ctx) {
    if (typeof v === 'boolean' || (typeof v === 'string' && (INIT_SCHEMES.test(v) || EXACT_INIT.test(v)))) return v as InitLoraWeights;
    return fail(path, ctx, `must be ${initLoraWeightsType.expected}, got ${JSON.stringify(v)}`);
  },
  dump: (v) => v,
};

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isList = <T>(v: unknown): v is T[] => Array.isArray(v);

const layerRange: FieldType<[number, number]> = {
  expected: 'a [start, end] pair of integers',
  parse(v, path, ctx) {
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x))) fail(path, ctx, `must be ${layerRange.expected}, got ${JSON.stringify(v)}`);
    return [v[0], v[1]] as [number, number];
  },
  dump: (v) => [...v],
};

/** The fields LoraConfig and AdaLoraConfig share: every LoRA field but rank_pattern, whose meaning differs. */
export const LORA_SHARED_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', positiveInt, () => 8),
  field('target_modules', nullable(union(str, stringSet, isString)), () => null),
  field('exclude_modules', nullable(union(str, stringSet, isString)), () => null),
  field('lora_alpha', num, () => 8),
  field('lora_dropout', float, () => 0.0),
  field('fan_in_fan_out', bool, () => false),
  field('bias', literal('none', 'all', 'lora_only'), () => 'none'),
  field('use_rslora', bool, () => false),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('init_lora_weights', initLoraWeightsType, () => true),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
  field('alpha_pattern', recordOf(num), () => ({})),
  field('megatron_config', nullable(jsonObject), () => null),
  field('megatron_core', nullable(str), () => 'megatron.core'),
  field('trainable_token_indices', nullable(union(listOf(int), recordOf(listOf(int)), isList)), () => null),
  field('loftq_config', loftqConfigType, () => ({})),
  field('eva_config', nullable(evaConfigType), () => null),
  field('corda_config', nullable(cordaConfigType), () => null),
  field('lora_ga_config', nullable(loraGaConfigType), () => null),
  field('use_dora', bool, () => false),
  field('velora_config', nullable(veloraConfigType), () => null),
  field('alora_invocation_tokens', nullable(listOf(int)), () => null),
  field('use_qalora', bool, () => false),
  field('qalora_group_size', positiveInt, () => 16),
  field('monteclora_config', nullable(montecloraConfigType), () => null),
  field('layer_replication', nullable(listOf(layerRange)), () => null),
  field('lora_bias', bool, () => false),
  field('target_parameters', nullable(listOf(str)), () => null),
  field('use_bdlora', nullable(bdLoraConfigType), () => null),
  field('arrow_config', nullable(arrowConfigType), () => null),
  field('kasa_config', nullable(kasaConfigType), () => null),
  field('ensure_weight_tying', bool, () => false),
];

const LORA_FIELDS: readonly Field[] = [...LORA_SHARED_FIELDS, field('rank_pattern', recordOf(positiveInt), () => ({}))];

/** The options LoraConfig and AdaLoraConfig share; every one defaults as in PEFT. Lists may also be given as Sets. */
export interface LoraSharedOptions extends PeftConfigOptions {
  r?: number;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear". */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  loraAlpha?: number;
  loraDropout?: number;
  fanInFanOut?: boolean;
  bias?: LoraBias;
  useRslora?: boolean;
  modulesToSave?: string[] | null;
  initLoraWeights?: InitLoraWeights;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
  alphaPattern?: Record<string, number>;
  megatronConfig?: { [key: string]: JsonValue } | null;
  megatronCore?: string | null;
  trainableTokenIndices?: number[] | Record<string, number[]> | null;
  loftqConfig?: LoftQConfig;
  evaConfig?: Partial<EvaConfig> | null;
  cordaConfig?: Partial<CordaConfig> | null;
  loraGaConfig?: Partial<LoraGAConfig> | null;
  useDora?: boolean;
  veloraConfig?: Partial<VeloraConfig> | null;
  aloraInvocationTokens?: number[] | null;
  useQalora?: boolean;
  qaloraGroupSize?: number;
  montecloraConfig?: Partial<MontecloraConfig> | null;
  layerReplication?: [number, number][] | null;
  loraBias?: boolean;
  targetParameters?: string[] | null;
  useBdlora?: Partial<BdLoraConfig> | null;
  arrowConfig?: Partial<Omit<ArrowConfig, 'taskAdapterNames' | 'gksAdapterNames'>> | null;
  kasaConfig?: Partial<KasaConfig> | null;
  ensureWeightTying?: boolean;
}

/** Options for `new LoraConfig(...)`. */
export interface LoraConfigOptions extends LoraSharedOptions {
  /** Rank per module: the first key (a regex matched at the end of the module name) that matches wins. */
  rankPattern?: Record<string, number>;
}

/**
 * The fields and checks LoraConfig and AdaLoraConfig share (PEFT's AdaLoraConfig subclasses LoraConfig; here both
 * derive from this class because their rank_pattern differs in type).
 */
export abstract class LoraSharedConfig extends PeftConfig {
  declare r: number;
  /** A Python regex (full match) or a set of names; resolved by matchTargets ("all-linear", defaults, suffix compression). */
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare loraAlpha: number;
  declare loraDropout: number;
  declare fanInFanOut: boolean;
  declare bias: LoraBias;
  declare useRslora: boolean;
  declare modulesToSave: string[] | null;
  declare initLoraWeights: InitLoraWeights;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  declare alphaPattern: Record<string, number>;
  declare megatronConfig: { [key: string]: JsonValue } | null;
  declare megatronCore: string | null;
  declare trainableTokenIndices: number[] | Record<string, number[]> | null;
  declare loftqConfig: LoftQConfig;
  declare evaConfig: EvaConfig | null;
  declare cordaConfig: CordaConfig | null;
  declare loraGaConfig: LoraGAConfig | null;
  declare useDora: boolean;
  declare veloraConfig: VeloraConfig | null;
  declare aloraInvocationTokens: number[] | null;
  declare useQalora: boolean;
  declare qaloraGroupSize: number;
  declare montecloraConfig: MontecloraConfig | null;
  declare layerReplication: [number, number][] | null;
  declare loraBias: boolean;
  declare targetParameters: string[] | null;
  declare useBdlora: BdLoraConfig | null;
  declare arrowConfig: ArrowConfig | null;
  declare kasaConfig: KasaConfig | null;
  declare ensureWeightTying: boolean;

  constructor(options: LoraSharedOptions) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    checkRegexTargetLayers(this, ctx);
    if (this.useDora && this.megatronConfig !== null && Object.keys(this.megatronConfig).length > 0) {
      fail('use_dora', ctx, 'is not supported together with megatron_config');
    }
    if (this.loraDropout < 0 || this.loraDropout > 1) fail('lora_dropout', ctx, `must be between 0 and 1, got ${this.loraDropout}`);
    checkPatterns(this, ctx);

    // PEFT resolves the init-specific sub-configs in one if/elif chain; its order decides which apply.
    const init = this.initLoraWeights;
    if (init === 'loftq') {
      if (Object.keys(this.loftqConfig).length === 0) fail('loftq_config', ctx, 'must be given when init_lora_weights is "loftq"');
    } else if (Object.keys(this.loftqConfig).length > 0) {
      this.loftqConfig = {};
      warn('loftq_config is ignored because init_lora_weights is not "loftq".');
    } else if (init === 'eva' && this.evaConfig === null) {
      warn('init_lora_weights is "eva" but eva_config is not given; using the default EVA config.');
      this.evaConfig = evaConfigType.parse({}, 'eva_config', ctx);
    } else if (init !== 'eva' && this.evaConfig !== null) {
      warn('eva_config is ignored because init_lora_weights is not "eva".');
    } else if (init === 'corda' && this.cordaConfig === null) {
      warn('init_lora_weights is "corda" but corda_config is not given; using the default CorDA config.');
      this.cordaConfig = cordaConfigType.parse({}, 'corda_config', ctx);
    } else if (init !== 'corda' && this.cordaConfig !== null) {
      warn('corda_config is ignored because init_lora_weights is not "corda".');
    }

    if (this.loraBias) {
      if (init !== true && init !== false) fail('lora_bias', ctx, `is only supported with init_lora_weights true or false, got ${JSON.stringify(init)}`);
      if (this.useDora) fail('lora_bias', ctx, 'is not supported with DoRA (use_dora)');
    }
    if (this.aloraInvocationTokens !== null && this.taskType !== TaskType.CAUSAL_LM) {
      warn('aLoRA (alora_invocation_tokens) is only supported for the CAUSAL_LM task.');
    }
  }
}

export class LoraConfig extends LoraSharedConfig {
  declare peftType: 'LORA';
  declare rankPattern: Record<string, number>;

  constructor(options: LoraConfigOptions = {}) {
    super(options);
  }

  protected get configFields(): readonly Field[] {
    return LORA_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.LORA;
    checkPatternKeys('rank_pattern', this.rankPattern, ctx);
    const init = this.initLoraWeights;
    const mutatesBase = (typeof init === 'string' && init.startsWith('pissa')) || init === 'olora' || init === 'corda' || init === 'lora_ga';
    if (this.useRslora && (Object.keys(this.rankPattern).length > 0 || Object.keys(this.alphaPattern).length > 0) && mutatesBase) {
      warn(
        `use_rslora with rank_pattern/alpha_pattern and init_lora_weights=${JSON.stringify(init)}: the adapter cannot be ` +
          'converted to a plain LoRA on save (path_initial_model_for_weight_conversion) with this combination.',
      );
    }
  }

  /** Builds a LoraConfig from parsed adapter_config.json (snake_case or camelCase keys). */
  static override fromJSON(json: unknown, options: FromJSONOptions = {}): LoraConfig {
    return PeftConfig.loadJSON(LoraConfig, PeftType.LORA, json, options);
  }
}

registerPeftConfig(PeftType.LORA, LoraConfig);
