// BOFTConfig (PEFT's boft/config.py): each targeted layer's input is rotated by butterfly-factorised block-diagonal
// orthogonal matrices and its output scaled per feature. Either boft_block_size or boft_block_num is set, and the other
// is derived per layer from its input size.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, listOf, literal, nullable, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const namesOrRegex = nullable(union(str, stringSet, isString));

const BOFT_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('boft_block_size', int, () => 4),
  field('boft_block_num', int, () => 0),
  field('boft_n_butterfly_factor', int, () => 1),
  field('target_modules', namesOrRegex, () => null),
  field('exclude_modules', namesOrRegex, () => null),
  field('boft_dropout', float, () => 0.0),
  field('fan_in_fan_out', bool, () => false),
  field('bias', literal('none', 'all', 'boft_only'), () => 'none'),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('init_weights', bool, () => true),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
];

export interface BOFTConfigOptions extends PeftConfigOptions {
  /** Size of each orthogonal block; 0 derives it from boftBlockNum. Exactly one of the two is non-zero. */
  boftBlockSize?: number;
  /** Number of blocks per layer; 0 derives it from boftBlockSize. Either must divide every targeted layer's input size. */
  boftBlockNum?: number;
  /**
   * Butterfly factors. Saved as given, but like PEFT without its CUDA extension every layer computes one factor
   * (plain block-diagonal OFT), with a warning when this is not 1.
   */
  boftNButterflyFactor?: number;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  /** Multiplicative dropout in training: this fraction of each layer's blocks is replaced by the identity. */
  boftDropout?: number;
  fanInFanOut?: boolean;
  bias?: 'none' | 'all' | 'boft_only';
  modulesToSave?: string[] | null;
  /** Rotations start at the identity and scales at one; false draws them from N(0, 0.1²) and N(1, 0.1²). */
  initWeights?: boolean;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
}

export class BOFTConfig extends PeftConfig {
  declare peftType: 'BOFT';
  declare boftBlockSize: number;
  declare boftBlockNum: number;
  declare boftNButterflyFactor: number;
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare boftDropout: number;
  declare fanInFanOut: boolean;
  declare bias: 'none' | 'all' | 'boft_only';
  declare modulesToSave: string[] | null;
  declare initWeights: boolean;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  // Target settings BOFT does not have; matching reads them as unset.
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: BOFTConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return BOFT_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.BOFT;
    Object.assign(this, { targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
    if (this.boftBlockSize < 0) fail('boft_block_size', ctx, `must not be negative, got ${this.boftBlockSize}`);
    if (this.boftBlockNum < 0) fail('boft_block_num', ctx, `must not be negative, got ${this.boftBlockNum}`);
    if (this.boftBlockSize === 0 && this.boftBlockNum === 0) fail('boft_block_size', ctx, 'or boft_block_num must be non-zero; both are 0');
    if (this.boftBlockSize !== 0 && this.boftBlockNum !== 0) {
      fail(
        'boft_block_size',
        ctx,
        `(${this.boftBlockSize}) and boft_block_num (${this.boftBlockNum}) cannot both be set, because boft_block_size × boft_block_num = in_features; set the other to 0`,
      );
    }
    if (this.boftNButterflyFactor < 1) fail('boft_n_butterfly_factor', ctx, `must be a positive integer, got ${this.boftNButterflyFactor}`);
    if (this.boftDropout < 0 || this.boftDropout > 1) fail('boft_dropout', ctx, `must be between 0 and 1, got ${this.boftDropout}`);
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): BOFTConfig {
    return PeftConfig.loadJSON(BOFTConfig, PeftType.BOFT, json, options);
  }
}

registerPeftConfig(PeftType.BOFT, BOFTConfig);
