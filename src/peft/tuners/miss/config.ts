// MissConfig (PEFT's miss/config.py): MiSS, Matrix Shard Sharing (which replaced Bone). Each targeted layer shares one
// small trainable block across the shards of its weight: in the default ("balance") variant an [r, out_features] block
// added to every r-column shard, with "mini" a narrower [r, mini_r] block repeated along the outputs, and with "bat"
// one r×r block per row of shards that multiplies each shard of the base weight.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, listOf, literal, nullable, positiveInt, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, checkRegexTargetLayers, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

/** init_weights: true (balance, a zero block), false (balance, a kaiming-uniform block), "bat" or "mini" (zero blocks). */
export type MissInitWeights = boolean | 'bat' | 'mini';

const MISS_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', positiveInt, () => 64),
  field('miss_dropout', float, () => 0.0),
  field('mini_r', positiveInt, () => 1),
  field('target_modules', nullable(union(str, stringSet, isString)), () => null),
  field('exclude_modules', nullable(union(str, stringSet, isString)), () => null),
  field('init_weights', union(bool, literal('bat', 'mini'), isBoolean), () => true),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
  field('bias', literal('none', 'all', 'MiSS_only'), () => 'none'),
  field('modules_to_save', nullable(listOf(str)), () => null),
];

export interface MissConfigOptions extends PeftConfigOptions {
  /** Shard width along in_features (and, with "bat", along out_features too); in_features need not be a multiple. */
  r?: number;
  /** Dropout on the layer input before it is summed over the shards (not used by "bat"). */
  missDropout?: number;
  /** With init_weights "mini": the width of the block along out_features, which must divide out_features. */
  miniR?: number;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  /** The variant: true / false the default (balance) one, starting at zero / at random; "bat"; "mini". */
  initWeights?: MissInitWeights;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
  bias?: 'none' | 'all' | 'MiSS_only';
  modulesToSave?: string[] | null;
}

export class MissConfig extends PeftConfig {
  declare peftType: 'MISS';
  declare r: number;
  declare missDropout: number;
  declare miniR: number;
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare initWeights: MissInitWeights;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  declare bias: 'none' | 'all' | 'MiSS_only';
  declare modulesToSave: string[] | null;
  // Target settings MiSS does not have; matching reads them as unset.
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: MissConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return MISS_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.MISS;
    Object.assign(this, { targetParameters: null, trainableTokenIndices: null });
    checkRegexTargetLayers(this, ctx);
    checkPatterns(this, ctx);
    if (this.missDropout < 0 || this.missDropout > 1) fail('miss_dropout', ctx, `must be between 0 and 1, got ${this.missDropout}`);
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): MissConfig {
    return PeftConfig.loadJSON(MissConfig, PeftType.MISS, json, options);
  }
}

registerPeftConfig(PeftType.MISS, MissConfig);
