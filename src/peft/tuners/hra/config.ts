// HRAConfig (PEFT's hra/config.py): Householder reflection adaptation. Each targeted layer's weight is multiplied by
// a chain of r Householder reflections, one per column of a trainable [in_features, r] matrix, or (apply_GS) by the
// single reflection across the span of those columns after Gram–Schmidt.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, field, int, listOf, literal, nullable, positiveInt, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, checkRegexTargetLayers, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

const HRA_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', positiveInt, () => 8),
  // PEFT's key keeps its capitals; the TS option is applyGS.
  { ...field('apply_GS', bool, () => false), prop: 'applyGS' },
  field('target_modules', nullable(union(str, stringSet, isString)), () => null),
  field('exclude_modules', nullable(union(str, stringSet, isString)), () => null),
  field('init_weights', bool, () => true),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
  field('bias', literal('none', 'all', 'hra_only'), () => 'none'),
  field('modules_to_save', nullable(listOf(str)), () => null),
];

export interface HRAConfigOptions extends PeftConfigOptions {
  /** Householder reflections per layer; an even r lets init_weights start from the identity. */
  r?: number;
  /** Orthonormalise the reflection vectors (Gram–Schmidt) and reflect across their span once. */
  applyGS?: boolean;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  /**
   * Vectors in equal pairs, so that the reflections cancel and the layer starts as the base layer (r must be even;
   * an odd r draws them at random with a warning); false draws every vector at random.
   */
  initWeights?: boolean;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
  bias?: 'none' | 'all' | 'hra_only';
  modulesToSave?: string[] | null;
}

export class HRAConfig extends PeftConfig {
  declare peftType: 'HRA';
  declare r: number;
  declare applyGS: boolean;
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare initWeights: boolean;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  declare bias: 'none' | 'all' | 'hra_only';
  declare modulesToSave: string[] | null;
  // Target settings HRA does not have; matching reads them as unset.
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: HRAConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return HRA_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.HRA;
    Object.assign(this, { targetParameters: null, trainableTokenIndices: null });
    checkRegexTargetLayers(this, ctx);
    checkPatterns(this, ctx);
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): HRAConfig {
    return PeftConfig.loadJSON(HRAConfig, PeftType.HRA, json, options);
  }
}

registerPeftConfig(PeftType.HRA, HRAConfig);
