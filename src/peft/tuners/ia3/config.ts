// IA3Config (PEFT's ia3/config.py): learned vectors that rescale the outputs of the targeted layers, or the inputs of
// those that are also feedforward modules.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, listOf, nullable, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';
import { checkRegex, iterablesAsArrays } from '../../utils/pattern-checks.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const namesOrRegex = nullable(union(str, stringSet, isString));

const IA3_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('target_modules', namesOrRegex, () => null),
  field('exclude_modules', namesOrRegex, () => null),
  field('feedforward_modules', namesOrRegex, () => null),
  field('fan_in_fan_out', bool, () => false),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('init_ia3_weights', bool, () => true),
];

export interface IA3ConfigOptions extends PeftConfigOptions {
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  /** Targets whose input (not output) is scaled: names (plain suffixes) or a regex; a subset of targetModules. */
  feedforwardModules?: string | Iterable<string> | null;
  fanInFanOut?: boolean;
  modulesToSave?: string[] | null;
  /** Vectors start at 1 (the identity); false draws them from N(0, 1). */
  initIa3Weights?: boolean;
}

export class IA3Config extends PeftConfig {
  declare peftType: 'IA3';
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare feedforwardModules: string | Set<string> | null;
  declare fanInFanOut: boolean;
  declare modulesToSave: string[] | null;
  declare initIa3Weights: boolean;
  // Target settings IA3 does not have; matching reads them as unset.
  declare layersToTransform: null;
  declare layersPattern: null;
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: IA3ConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules', 'feedforwardModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return IA3_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.IA3;
    Object.assign(this, { layersToTransform: null, layersPattern: null, targetParameters: null, trainableTokenIndices: null });
    for (const [key, v] of [['target_modules', this.targetModules], ['exclude_modules', this.excludeModules], ['feedforward_modules', this.feedforwardModules]] as const) {
      if (typeof v === 'string') checkRegex(key, ctx, v, 'is not a usable regex');
    }
    const ff = this.feedforwardModules;
    const targets = this.targetModules;
    if (ff instanceof Set && targets instanceof Set) {
      const extra = [...ff].filter((m) => !targets.has(m));
      if (extra.length > 0) fail('feedforward_modules', ctx, `must be a subset of target_modules; ${JSON.stringify(extra)} are not targets`);
    }
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): IA3Config {
    return PeftConfig.loadJSON(IA3Config, PeftType.IA3, json, options);
  }
}

registerPeftConfig(PeftType.IA3, IA3Config);
