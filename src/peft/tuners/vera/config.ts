// VeraConfig (PEFT's vera/config.py): one pair of frozen random projections shared by every targeted layer, and per
// layer two trainable scaling vectors.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, listOf, literal, nullable, positiveInt, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';
import { checkProjectionSettings } from '../projection-config.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

const VERA_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', positiveInt, () => 256),
  field('target_modules', nullable(union(str, stringSet, isString)), () => null),
  field('projection_prng_key', int, () => 0),
  field('save_projection', bool, () => true),
  field('vera_dropout', float, () => 0.0),
  field('d_initial', float, () => 0.1),
  field('fan_in_fan_out', bool, () => false),
  field('bias', literal('none', 'all', 'vera_only'), () => 'none'),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('init_weights', bool, () => true),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
];

export interface VeraConfigOptions extends PeftConfigOptions {
  /** Rank of the shared projections (higher than LoRA ranks: VeRA trains only r + out values per layer). */
  r?: number;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  /** Seed of torch's CPU generator that draws vera_A and vera_B; every adapter of a model must use the same. */
  projectionPrngKey?: number;
  /** Save vera_A / vera_B with the adapter; false regenerates them from projectionPrngKey on loading. */
  saveProjection?: boolean;
  veraDropout?: number;
  /** Initial value of every vera_lambda_d entry. */
  dInitial?: number;
  fanInFanOut?: boolean;
  bias?: 'none' | 'all' | 'vera_only';
  modulesToSave?: string[] | null;
  /** lambda_b starts at 0 and lambda_d at dInitial; false leaves lambda_b at 1 and lambda_d random (for tests). */
  initWeights?: boolean;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
}

export class VeraConfig extends PeftConfig {
  declare peftType: 'VERA';
  declare r: number;
  declare targetModules: string | Set<string> | null;
  declare projectionPrngKey: number;
  declare saveProjection: boolean;
  declare veraDropout: number;
  declare dInitial: number;
  declare fanInFanOut: boolean;
  declare bias: 'none' | 'all' | 'vera_only';
  declare modulesToSave: string[] | null;
  declare initWeights: boolean;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  // Target settings VeRA does not have; matching reads them as unset.
  declare excludeModules: null;
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: VeraConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return VERA_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.VERA;
    Object.assign(this, { excludeModules: null, targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
    if (this.veraDropout < 0 || this.veraDropout > 1) fail('vera_dropout', ctx, `must be between 0 and 1, got ${this.veraDropout}`);
    checkProjectionSettings(this, ctx, 'vera_A and vera_B');
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): VeraConfig {
    return PeftConfig.loadJSON(VeraConfig, PeftType.VERA, json, options);
  }
}

registerPeftConfig(PeftType.VERA, VeraConfig);
