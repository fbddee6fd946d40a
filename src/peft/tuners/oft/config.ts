// OFTConfig (PEFT's oft/config.py, in the format PEFT uses since 0.14): each targeted layer's input is rotated by a
// block-diagonal orthogonal matrix, the Cayley transform of a trainable skew-symmetric matrix per block. Either r (the
// number of blocks) or oft_block_size is set and the other is derived per layer from its input size.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, isPlainObject, listOf, literal, nullable, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';
import { warn } from '../../utils/warnings.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

const OFT_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', int, () => 0),
  field('oft_block_size', int, () => 32),
  field('module_dropout', float, () => 0.0),
  field('target_modules', nullable(union(str, stringSet, isString)), () => null),
  field('fan_in_fan_out', bool, () => false),
  field('bias', literal('none', 'all', 'oft_only'), () => 'none'),
  field('exclude_modules', nullable(union(str, stringSet, isString)), () => null),
  field('init_weights', bool, () => true),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('coft', bool, () => false),
  field('eps', float, () => 6e-5),
  field('block_share', bool, () => false),
  field('use_cayley_neumann', bool, () => true),
  field('num_cayley_neumann_terms', int, () => 5),
];

/** The first PEFT version with today's Cayley-Neumann series (adapters saved before it were trained with another). */
const NEUMANN_SERIES_SINCE = [0, 18, 0];

export interface OFTConfigOptions extends PeftConfigOptions {
  /** Number of blocks per layer; 0 derives it from oftBlockSize. Exactly one of r and oftBlockSize is non-zero. */
  r?: number;
  /** Size of each orthogonal block; 0 derives it from r. Adjusted (with a warning) where it does not divide a layer's input size. */
  oftBlockSize?: number;
  /** PEFT's multiplicative block dropout; like PEFT 0.21, saved but never applied in the forward pass. */
  moduleDropout?: number;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  fanInFanOut?: boolean;
  bias?: 'none' | 'all' | 'oft_only';
  excludeModules?: string | Iterable<string> | null;
  /** Weights start at zero (every rotation the identity); false draws them from N(0, 0.1²). */
  initWeights?: boolean;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
  modulesToSave?: string[] | null;
  /** Constrained OFT: each block's skew-symmetric matrix is projected into a ball of radius eps / √blocks. */
  coft?: boolean;
  /** The radius of COFT's constraint; no effect without coft. */
  eps?: number;
  /** One set of weights for every block of a layer. */
  blockShare?: boolean;
  /** The truncated Neumann series of the Cayley transform instead of its exact inverse. */
  useCayleyNeumann?: boolean;
  numCayleyNeumannTerms?: number;
}

/** Whether version text `v` ("0.17.0", "0.18.0.dev0@abc…") is below `[major, minor, patch]`. */
function versionBelow(v: string, min: readonly number[]): boolean {
  const parts = v.split('@')[0]!.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < min.length; i++) {
    const p = Number.isNaN(parts[i] ?? 0) ? 0 : (parts[i] ?? 0);
    if (p !== min[i]) return p < min[i]!;
  }
  return false;
}

export class OFTConfig extends PeftConfig {
  declare peftType: 'OFT';
  declare r: number;
  declare oftBlockSize: number;
  declare moduleDropout: number;
  declare targetModules: string | Set<string> | null;
  declare fanInFanOut: boolean;
  declare bias: 'none' | 'all' | 'oft_only';
  declare excludeModules: string | Set<string> | null;
  declare initWeights: boolean;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  declare modulesToSave: string[] | null;
  declare coft: boolean;
  declare eps: number;
  declare blockShare: boolean;
  declare useCayleyNeumann: boolean;
  declare numCayleyNeumannTerms: number;
  // Target settings OFT does not have; matching reads them as unset.
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: OFTConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return OFT_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.OFT;
    Object.assign(this, { targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
    if (this.r < 0) fail('r', ctx, `must not be negative, got ${this.r}`);
    if (this.oftBlockSize < 0) fail('oft_block_size', ctx, `must not be negative, got ${this.oftBlockSize}`);
    if (this.r === 0 && this.oftBlockSize === 0) fail('r', ctx, 'or oft_block_size must be non-zero; both are 0');
    if (this.r !== 0 && this.oftBlockSize !== 0) {
      fail('r', ctx, `(${this.r}) and oft_block_size (${this.oftBlockSize}) cannot both be set, because r × oft_block_size = in_features; set the other to 0`);
    }
    if (this.moduleDropout < 0 || this.moduleDropout > 1) fail('module_dropout', ctx, `must be between 0 and 1, got ${this.moduleDropout}`);
    if (this.numCayleyNeumannTerms < 0) fail('num_cayley_neumann_terms', ctx, `must not be negative, got ${this.numCayleyNeumannTerms}`);
  }

  /**
   * PEFT's check_kwargs on a saved config: one without oft_block_size is in the format of PEFT before 0.14, which
   * cannot be loaded; a Cayley-Neumann adapter saved before 0.18 was trained with another series (a warning).
   */
  private static checkSaved(json: unknown, source: string | undefined): void {
    if (!isPlainObject(json)) return;
    if (!('oft_block_size' in json) && !('oftBlockSize' in json)) {
      throw new ConfigError(
        'oft_block_size',
        'is missing: the adapter was saved in the OFT format of PEFT before 0.14, which is no longer supported; retrain it with a newer PEFT',
        source,
      );
    }
    const neumann = json['use_cayley_neumann'] ?? json['useCayleyNeumann'] ?? false;
    const version = json['peft_version'] ?? json['peftVersion'];
    if (neumann === true && versionBelow(typeof version === 'string' ? version : '0.0.0', NEUMANN_SERIES_SINCE)) {
      warn(
        'The Cayley-Neumann parameterization was changed in PEFT 0.18.0 to be more numerically stable, and this adapter was saved ' +
          'by an older version: its outputs will differ from those it was trained with. Retrain it, or use PEFT 0.17.',
      );
    }
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): OFTConfig {
    OFTConfig.checkSaved(json, options.source);
    return PeftConfig.loadJSON(OFTConfig, PeftType.OFT, json, options);
  }
}

registerPeftConfig(PeftType.OFT, OFTConfig);
