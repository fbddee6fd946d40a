// ShiraConfig (PEFT's shira/config.py): each targeted Linear learns r · (in + out) weights at positions of its
// [out, in] weight drawn by a random sparse mask; the adapter is high rank although it has LoRA's parameter count.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, int, listOf, literal, nullable, positiveInt, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';

const isString = (v: unknown): v is string => typeof v === 'string';

const SHIRA_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', positiveInt, () => 32),
  // PEFT's only built-in mask; other types need a Python mask function, which a JSON config cannot carry.
  field('mask_type', literal('random'), () => 'random'),
  field('random_seed', nullable(int), () => null),
  field('target_modules', nullable(union(str, stringSet, isString)), () => null),
  field('fan_in_fan_out', bool, () => false),
  field('init_weights', bool, () => true),
  field('modules_to_save', nullable(listOf(str)), () => null),
];

export interface ShiraConfigOptions extends PeftConfigOptions {
  /** Each layer learns r · (in + out) weights; this does not bound the rank of its weight change. */
  r?: number;
  maskType?: 'random';
  /** Seed of torch's CPU generator that draws the mask; null: the generator's default seed, as PEFT's unseeded one. */
  randomSeed?: number | null;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  fanInFanOut?: boolean;
  /** Weights start at zero (ΔW = 0); false draws them from N(0, 1). */
  initWeights?: boolean;
  modulesToSave?: string[] | null;
}

export class ShiraConfig extends PeftConfig {
  declare peftType: 'SHIRA';
  declare r: number;
  declare maskType: 'random';
  declare randomSeed: number | null;
  declare targetModules: string | Set<string> | null;
  declare fanInFanOut: boolean;
  declare initWeights: boolean;
  declare modulesToSave: string[] | null;
  // Target settings SHiRA does not have; matching reads them as unset.
  declare excludeModules: null;
  declare layersToTransform: null;
  declare layersPattern: null;
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: ShiraConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return SHIRA_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.SHIRA;
    Object.assign(this, { excludeModules: null, layersToTransform: null, layersPattern: null, targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
    if (this.randomSeed !== null && !Number.isSafeInteger(this.randomSeed)) fail('random_seed', ctx, `must be an integer of at most 53 bits, got ${this.randomSeed}`);
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): ShiraConfig {
    return PeftConfig.loadJSON(ShiraConfig, PeftType.SHIRA, json, options);
  }
}

registerPeftConfig(PeftType.SHIRA, ShiraConfig);
