// VBLoRAConfig (PEFT's vblora/config.py): LoRA matrices whose sub-vectors are mixed, with a top-k softmax over learned
// logits, from one bank of vectors per adapter shared by every targeted layer.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, listOf, literal, nullable, positiveInt, str, stringSet, union, type Field, type ParseContext } from '../../utils/config-fields.js';
import { checkPatterns, iterablesAsArrays } from '../../utils/pattern-checks.js';
import { PeftType } from '../../utils/peft-types.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const namesOrRegex = nullable(union(str, stringSet, isString));

const VBLORA_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('r', positiveInt, () => 4),
  field('num_vectors', positiveInt, () => 256),
  field('vector_length', positiveInt, () => 256),
  field('topk', positiveInt, () => 2),
  field('target_modules', namesOrRegex, () => null),
  field('exclude_modules', namesOrRegex, () => null),
  field('save_only_topk_weights', bool, () => false),
  field('vblora_dropout', float, () => 0.0),
  field('fan_in_fan_out', bool, () => false),
  field('bias', literal('none', 'all', 'vblora_only'), () => 'none'),
  field('modules_to_save', nullable(listOf(str)), () => null),
  field('init_vector_bank_bound', float, () => 0.02),
  field('init_logits_std', float, () => 0.1),
  field('layers_to_transform', nullable(union(int, listOf(int), isNumber)), () => null),
  field('layers_pattern', nullable(union(str, listOf(str), isString)), () => null),
];

export interface VBLoRAConfigOptions extends PeftConfigOptions {
  /** Rank of the composed LoRA matrices. */
  r?: number;
  /** Number of vectors in the bank. */
  numVectors?: number;
  /** Length of the bank's vectors; it must divide the in and out features of every targeted layer. */
  vectorLength?: number;
  /** How many bank vectors each sub-vector mixes (the largest logits). */
  topk?: number;
  /** Module names (exact or dot-suffix), one Python regex (full match), or "all-linear"; the model type's defaults when null. */
  targetModules?: string | Iterable<string> | null;
  excludeModules?: string | Iterable<string> | null;
  /** Save only the top-k indices and weights of the logits: smaller files, usable for inference and merging only. */
  saveOnlyTopkWeights?: boolean;
  vbloraDropout?: number;
  fanInFanOut?: boolean;
  bias?: 'none' | 'all' | 'vblora_only';
  modulesToSave?: string[] | null;
  /** The bank starts uniform in ±initVectorBankBound. */
  initVectorBankBound?: number;
  /** The logits start normal with this standard deviation. */
  initLogitsStd?: number;
  layersToTransform?: number | number[] | null;
  layersPattern?: string | string[] | null;
}

export class VBLoRAConfig extends PeftConfig {
  declare peftType: 'VBLORA';
  declare r: number;
  declare numVectors: number;
  declare vectorLength: number;
  declare topk: number;
  declare targetModules: string | Set<string> | null;
  declare excludeModules: string | Set<string> | null;
  declare saveOnlyTopkWeights: boolean;
  declare vbloraDropout: number;
  declare fanInFanOut: boolean;
  declare bias: 'none' | 'all' | 'vblora_only';
  declare modulesToSave: string[] | null;
  declare initVectorBankBound: number;
  declare initLogitsStd: number;
  declare layersToTransform: number | number[] | null;
  declare layersPattern: string | string[] | null;
  // Target settings VB-LoRA does not have; matching reads them as unset.
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: VBLoRAConfigOptions = {}) {
    super();
    this.assign(iterablesAsArrays(options, ['targetModules', 'excludeModules']), strictContext());
  }

  protected get configFields(): readonly Field[] {
    return VBLORA_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.VBLORA;
    Object.assign(this, { targetParameters: null, trainableTokenIndices: null });
    checkPatterns(this, ctx);
    if (this.topk > this.numVectors) fail('topk', ctx, `must be at most num_vectors (${this.numVectors}), got ${this.topk}`);
    if (this.vbloraDropout < 0 || this.vbloraDropout > 1) fail('vblora_dropout', ctx, `must be between 0 and 1, got ${this.vbloraDropout}`);
    if (this.initLogitsStd < 0) fail('init_logits_std', ctx, `must not be negative, got ${this.initLogitsStd}`);
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): VBLoRAConfig {
    return PeftConfig.loadJSON(VBLoRAConfig, PeftType.VBLORA, json, options);
  }
}

registerPeftConfig(PeftType.VBLORA, VBLoRAConfig);
