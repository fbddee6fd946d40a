// FourierFTConfig (PEFT's fourierft/config.py): each targeted layer learns n_frequency spectral coefficients at
// positions drawn from random_loc_seed; its weight change is the real part of their inverse 2-D DFT.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, listOf, literal, nullable, positiveInt, recordOf, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, checkRegex, checkRegexTargetLayers, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const namesOrRegex = nullable(union(str, stringSet, isString));

/** The regex PEFT matches a module key against for an n_frequency_pattern key (at least one dotted prefix). */
export function nFrequencyPatternRegex(key: string): string {
  return `.*\\.${key}$`;
}

const FOURIERFT_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('n_frequency', positiveInt, () => 1000),
  field('scaling', float, () => 150.0),
  field('random_loc_seed', nullable(int), () => 777),
  field('fan_in_fan_out', bool, () => false),
  field('target_modules', namesOrRegex, () => null),
  field('exclude_modules', namesOrRegex, () => null),
  field('bias', literal('none', 'all', 'fourier_only'), () => 'none'),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
  field('n_frequency_pattern', recordOf(positiveInt), () => ({})),
  field('init_weights', bool, () => false),
];

export interface FourierFTConfigOptions extends PeftConfigOptions {
  /** Learned spectral coefficients per layer (at most in · out of the layer). */
  nFrequency?: number;
  /** Factor on the inverse DFT (FourierFT's counterpart of lora_alpha). */
  scaling?: number;
  /** Seed of torch's CPU generator that draws the spectral positions; they are not saved but drawn again on loading. */
  randomLocSeed?: number;
  fanInFanOut?: boolean;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  bias?: 'none' | 'all' | 'fourier_only';
  modulesToSave?: string[] | null;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
  /** n_frequency per module: each key is a regex matched against the end of the module key, after a dot. */
  nFrequencyPattern?: Record<string, number>;
  /** Spectrum starts at zero (ΔW = 0); false (PEFT's default) draws it from N(0, 1). */
  initWeights?: boolean;
}

export class FourierFTConfig extends PeftConfig {
  declare peftType: 'FOURIERFT';
  declare nFrequency: number;
  declare scaling: number;
  declare randomLocSeed: number;
  declare fanInFanOut: boolean;
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare bias: 'none' | 'all' | 'fourier_only';
  declare modulesToSave: string[] | null;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  declare nFrequencyPattern: Record<string, number>;
  declare initWeights: boolean;
  // Target settings FourierFT does not have; matching reads them as unset.
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: FourierFTConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return FOURIERFT_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.FOURIERFT;
    Object.assign(this, { targetParameters: null, trainableTokenIndices: null });
    checkRegexTargetLayers(this, ctx);
    checkPatterns(this, ctx);
    // PEFT seeds torch's generator with it when the layers are built; null would only fail there.
    if (this.randomLocSeed === null) fail('random_loc_seed', ctx, 'must be an integer: the spectral positions are drawn from it');
    if (!Number.isSafeInteger(this.randomLocSeed)) fail('random_loc_seed', ctx, `must be an integer of at most 53 bits, got ${this.randomLocSeed}`);
    for (const k of Object.keys(this.nFrequencyPattern)) {
      checkRegex('n_frequency_pattern', ctx, nFrequencyPatternRegex(k), `key ${JSON.stringify(k)} is not a usable regex`);
    }
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): FourierFTConfig {
    return PeftConfig.loadJSON(FourierFTConfig, PeftType.FOURIERFT, json, options);
  }
}

registerPeftConfig(PeftType.FOURIERFT, FourierFTConfig);
