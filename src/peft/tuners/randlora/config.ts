// RandLoraConfig (PEFT's randlora/config.py): a pair of frozen random bases shared by every targeted layer, and per
// layer a trainable lambda [r, num_bases] and gamma [num_bases, min(in, out)] that scale them.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, listOf, literal, nullable, num, positiveInt, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';
import { checkProjectionSettings } from '../projection-config.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

const RANDLORA_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', positiveInt, () => 32),
  field('target_modules', nullable(union(str, stringSet, isString)), () => null),
  field('projection_prng_key', int, () => 0),
  field('save_projection', bool, () => true),
  field('sparse', bool, () => false),
  field('very_sparse', bool, () => false),
  field('randlora_dropout', float, () => 0.0),
  field('fan_in_fan_out', bool, () => false),
  field('randlora_alpha', num, () => 640),
  field('bias', literal('none', 'all', 'randlora_only'), () => 'none'),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('init_weights', bool, () => true),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
];

export interface RandLoraConfigOptions extends PeftConfigOptions {
  /** Rank of each random basis; lower ranks mean more bases (ceil(min(in, out) / r)) and so more trainable values. */
  r?: number;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  /** Seed of torch's CPU generator that draws randlora_A and randlora_B; every adapter of a model must use the same. */
  projectionPrngKey?: number;
  /** Save randlora_A / randlora_B with the adapter; false regenerates them from projectionPrngKey on loading. */
  saveProjection?: boolean;
  /** Ternary bases (-1, 0, 1 with probabilities 1/6, 2/3, 1/6). */
  sparse?: boolean;
  /** Ternary bases with 1/sqrt(min_dim) for each of -1 and 1; takes precedence over `sparse`. */
  verySparse?: boolean;
  randloraDropout?: number;
  fanInFanOut?: boolean;
  /** The update is scaled by randloraAlpha / r. */
  randloraAlpha?: number;
  bias?: 'none' | 'all' | 'randlora_only';
  modulesToSave?: string[] | null;
  /** lambda starts at 0 and gamma at 1/max(gamma's shape); false leaves lambda N(0, 1) and gamma at 1/max(in, out) (for tests). */
  initWeights?: boolean;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
}

export class RandLoraConfig extends PeftConfig {
  declare peftType: 'RANDLORA';
  declare r: number;
  declare targetModules: string | Set<string> | null;
  declare projectionPrngKey: number;
  declare saveProjection: boolean;
  declare sparse: boolean;
  declare verySparse: boolean;
  declare randloraDropout: number;
  declare fanInFanOut: boolean;
  declare randloraAlpha: number;
  declare bias: 'none' | 'all' | 'randlora_only';
  declare modulesToSave: string[] | null;
  declare initWeights: boolean;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  // Target settings RandLoRA does not have; matching reads them as unset.
  declare excludeModules: null;
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: RandLoraConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return RANDLORA_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.RANDLORA;
    Object.assign(this, { excludeModules: null, targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
    if (this.randloraDropout < 0 || this.randloraDropout > 1) fail('randlora_dropout', ctx, `must be between 0 and 1, got ${this.randloraDropout}`);
    checkProjectionSettings(this, ctx, 'randlora_A and randlora_B');
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): RandLoraConfig {
    return PeftConfig.loadJSON(RandLoraConfig, PeftType.RANDLORA, json, options);
  }
}

registerPeftConfig(PeftType.RANDLORA, RandLoraConfig);
