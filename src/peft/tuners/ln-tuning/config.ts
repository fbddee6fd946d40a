// LNTuningConfig (PEFT's ln_tuning/config.py): which modules (normally the norm layers) get a trainable copy per
// adapter; the model type's defaults when target_modules is unset.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { field, listOf, nullable, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';

const namesOrRegex = nullable(union(str, stringSet, (v: unknown): v is string => typeof v === 'string'));

const LN_TUNING_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('target_modules', namesOrRegex, () => null),
  field('exclude_modules', namesOrRegex, () => null),
  field('modules_to_save', nullable(listOf(str)), () => null),
];

export interface LNTuningConfigOptions extends PeftConfigOptions {
  /** Module names (exact or dot-suffix) or one Python regex (full match); the model type's norm layers when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  modulesToSave?: string[] | null;
}

export class LNTuningConfig extends PeftConfig {
  declare peftType: 'LN_TUNING';
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare modulesToSave: string[] | null;
  // Target settings LN tuning does not have; matching reads them as unset.
  declare layersToTransform: null;
  declare layersPattern: null;
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: LNTuningConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return LN_TUNING_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.LN_TUNING;
    Object.assign(this, { layersToTransform: null, layersPattern: null, targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): LNTuningConfig {
    return PeftConfig.loadJSON(LNTuningConfig, PeftType.LN_TUNING, json, options);
  }
}

registerPeftConfig(PeftType.LN_TUNING, LNTuningConfig);
