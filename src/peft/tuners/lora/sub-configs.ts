// LoraConfig's nested configurations (LoftQ, EVA, CorDA, LoRA-GA, VeLoRA, MonteCLoRA, BD-LoRA, Arrow, KaSA),
// as plain objects with PEFT 0.21's defaults and the checks of their dataclass __post_init__.
import {
  bool,
  fail,
  field,
  float,
  int,
  listOf,
  literal,
  nullable,
  str,
  subConfig,
  type FieldType,
  type ParseContext,
} from '../../utils/config-fields.js';

/** LoftQ settings; kept as given (PEFT stores this one as a plain dict, so absent keys are not written). */
export interface LoftQConfig {
  loftqBits?: number;
  loftqIter?: number;
}

export interface EvaConfig {
  rho: number;
  tau: number;
  useLabelMask: boolean;
  labelMaskValue: number;
  whiten: boolean;
  adjustScalingFactors: boolean;
}

export interface CordaConfig {
  cacheFile: string | null;
  covarianceFile: string | null;
  cordaMethod: 'ipm' | 'kpm';
  verbose: boolean;
  useFloat16ForCovariance: boolean;
  pruneTemporaryFields: boolean;
}

export interface LoraGAConfig {
  direction: 'ArBr' | 'A2rBr' | 'ArB2r' | 'random';
  scale: 'stable' | 'weight_svd' | 'gd_scale' | 'unit';
  stableGamma: number;
}

export interface VeloraConfig {
  numGroups: number;
  scale: number;
  initType: 'batch_average' | 'batch_average_once' | 'random';
}

export interface MontecloraConfig {
  numSamples: number;
  useEntropy: boolean;
  dirichletPrior: number;
  sampleScaler: number;
  klLossWeight: number;
  bufferSize: number;
}

export interface BdLoraConfig {
  targetModulesBdA: string[] | null;
  targetModulesBdB: string[] | null;
  nblocks: number;
  matchStrict: boolean;
}

export interface ArrowConfig {
  topK: number;
  routerTemperature: number;
  useGks: boolean;
  /** Set by Arrow model creation, never read from a file (always null after parsing). */
  taskAdapterNames: string[] | null;
  /** Set by Arrow model creation, never read from a file (always null after parsing). */
  gksAdapterNames: string[] | null;
  rngSeed: number | null;
}

export interface KasaConfig {
  beta: number;
  gamma: number;
}

function require(ok: boolean, path: string, key: string, ctx: ParseContext, detail: string): void {
  if (!ok) fail(`${path}.${key}`, ctx, detail);
}

export const loftqConfigType: FieldType<LoftQConfig> = subConfig<LoftQConfig>(
  'a LoftQ config',
  [field('loftq_bits', int, () => 4), field('loftq_iter', int, () => 1)],
  () => {},
  true,
);

export const evaConfigType = subConfig<EvaConfig>(
  'an EVA config',
  [
    field('rho', float, () => 2.0),
    field('tau', float, () => 0.99),
    field('use_label_mask', bool, () => true),
    field('label_mask_value', int, () => -100),
    field('whiten', bool, () => false),
    field('adjust_scaling_factors', bool, () => true),
  ],
  (v, path, ctx) => {
    require(v.rho >= 1.0, path, 'rho', ctx, `must be >= 1.0, got ${v.rho}`);
    require(v.tau >= 0.0 && v.tau <= 1.0, path, 'tau', ctx, `must be between 0.0 and 1.0, got ${v.tau}`);
  },
);

export const cordaConfigType = subConfig<CordaConfig>('a CorDA config', [
  field('cache_file', nullable(str), () => null),
  field('covariance_file', nullable(str), () => null),
  field('corda_method', literal('ipm', 'kpm'), () => 'ipm'),
  field('verbose', bool, () => false),
  field('use_float16_for_covariance', bool, () => false),
  field('prune_temporary_fields', bool, () => true),
]);

export const loraGaConfigType = subConfig<LoraGAConfig>('a LoRA-GA config', [
  field('direction', literal('ArBr', 'A2rBr', 'ArB2r', 'random'), () => 'ArB2r'),
  field('scale', literal('stable', 'weight_svd', 'gd_scale', 'unit'), () => 'stable'),
  field('stable_gamma', int, () => 16),
]);

export const veloraConfigType = subConfig<VeloraConfig>(
  'a VeLoRA config',
  [
    field('num_groups', int, () => 64),
    field('scale', float, () => 1.0),
    field('init_type', literal('batch_average', 'batch_average_once', 'random'), () => 'batch_average'),
  ],
  (v, path, ctx) => {
    require(v.numGroups > 0, path, 'num_groups', ctx, `must be positive, got ${v.numGroups}`);
    require(v.scale > 0, path, 'scale', ctx, `must be positive, got ${v.scale}`);
  },
);

export const montecloraConfigType = subConfig<MontecloraConfig>(
  'a MonteCLoRA config',
  [
    field('num_samples', int, () => 8),
    field('use_entropy', bool, () => false),
    field('dirichlet_prior', float, () => 0.1),
    field('sample_scaler', float, () => 1e-4),
    field('kl_loss_weight', float, () => 1e-5),
    field('buffer_size', int, () => 150),
  ],
  (v, path, ctx) => {
    require(v.numSamples > 0, path, 'num_samples', ctx, `must be greater than 0, got ${v.numSamples}`);
    require(v.dirichletPrior > 0, path, 'dirichlet_prior', ctx, `must be greater than 0, got ${v.dirichletPrior}`);
    require(v.bufferSize > 0, path, 'buffer_size', ctx, `must be greater than 0, got ${v.bufferSize}`);
  },
);

export const bdLoraConfigType = subConfig<BdLoraConfig>(
  'a BD-LoRA config',
  [
    field('target_modules_bd_a', nullable(listOf(str)), () => null),
    field('target_modules_bd_b', nullable(listOf(str)), () => null),
    field('nblocks', int, () => 1),
    field('match_strict', bool, () => true),
  ],
  (v, path, ctx) => {
    const overlap = (v.targetModulesBdA ?? []).filter((m) => (v.targetModulesBdB ?? []).includes(m));
    if (overlap.length > 0) fail(path, ctx, `lists ${JSON.stringify(overlap)} as both block-diagonal A and B modules`);
  },
);

export const arrowConfigType = subConfig<ArrowConfig>(
  'an Arrow config',
  [
    field('top_k', int, () => 3),
    field('router_temperature', float, () => 1.0),
    field('use_gks', bool, () => false),
    field('task_adapter_names', nullable(listOf(str)), () => null),
    field('gks_adapter_names', nullable(listOf(str)), () => null),
    field('rng_seed', nullable(int), () => null),
  ],
  (v, path, ctx) => {
    require(v.topK > 0, path, 'top_k', ctx, `must be positive, got ${v.topK}`);
    require(v.routerTemperature > 0, path, 'router_temperature', ctx, `must be greater than 0, got ${v.routerTemperature}`);
    // PEFT declares these two init=False: whatever a file holds is dropped and Arrow fills them in later.
    v.taskAdapterNames = null;
    v.gksAdapterNames = null;
  },
);

export const kasaConfigType = subConfig<KasaConfig>(
  'a KaSA config',
  [field('beta', float, () => 1e-4), field('gamma', float, () => 1e-3)],
  (v, path, ctx) => {
    require(v.beta >= 0, path, 'beta', ctx, `must be non-negative, got ${v.beta}`);
    require(v.gamma >= 0, path, 'gamma', ctx, `must be non-negative, got ${v.gamma}`);
  },
);
