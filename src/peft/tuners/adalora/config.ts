// AdaLoraConfig (PEFT's adalora/config.py): LoRA's fields plus the rank-allocation schedule. Training starts every
// targeted layer at init_r singular triplets; after tinit warm-up steps the total budget shrinks along a cubic curve
// to target_r per layer at total_step - tfinal, then stays fixed for the last tfinal steps. rank_pattern records,
// per lora_E, which triplets the allocation kept.
import { PeftConfig, type FromJSONOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, float, int, listOf, nullable, recordOf, type Field, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';
import { warn } from '../../utils/warnings.js';
import { LORA_SHARED_FIELDS, LoraSharedConfig, type LoraSharedOptions } from '../lora/config.js';

/** Per lora_E parameter name (`<module>.lora_E`, with `.<adapter>` while training): which triplets are kept. */
export type AdaLoraRankPattern = Record<string, boolean[]>;

const ADALORA_FIELDS: readonly Field[] = [
  ...LORA_SHARED_FIELDS,
  field('target_r', int, () => 8),
  field('init_r', int, () => 12),
  field('tinit', int, () => 0),
  field('tfinal', int, () => 0),
  field('deltaT', int, () => 1),
  field('beta1', float, () => 0.85),
  field('beta2', float, () => 0.85),
  field('orth_reg_weight', float, () => 0.5),
  field('total_step', nullable(int), () => null),
  field('rank_pattern', nullable(recordOf(listOf(bool))), () => null),
];

/** LoRA's `r` default: AdaLoRA ignores r and warns when it was changed. */
const LORA_DEFAULT_R = 8;

export interface AdaLoraConfigOptions extends LoraSharedOptions {
  /** Average rank per layer the budget shrinks to. */
  targetR?: number;
  /** Rank every layer starts with. */
  initR?: number;
  /** Warm-up steps before the budget starts shrinking. */
  tinit?: number;
  /** Final steps that train at the final budget. */
  tfinal?: number;
  /** Steps between two allocations while the budget shrinks. */
  deltaT?: number;
  /** EMA factor of the sensitivity |w · ∂L/∂w|. */
  beta1?: number;
  /** EMA factor of the sensitivity's uncertainty. */
  beta2?: number;
  /** Weight of the orthogonality penalty added to the loss. */
  orthRegWeight?: number;
  /** Training steps in all; required. */
  totalStep?: number | null;
  rankPattern?: AdaLoraRankPattern | null;
}

export class AdaLoraConfig extends LoraSharedConfig {
  declare peftType: 'ADALORA';
  declare targetR: number;
  declare initR: number;
  declare tinit: number;
  declare tfinal: number;
  declare deltaT: number;
  declare beta1: number;
  declare beta2: number;
  declare orthRegWeight: number;
  declare totalStep: number | null;
  declare rankPattern: AdaLoraRankPattern | null;

  constructor(options: AdaLoraConfigOptions = {}) {
    super(options);
  }

  protected get configFields(): readonly Field[] {
    return ADALORA_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.ADALORA;
    if (this.useDora) fail('use_dora', ctx, 'must be false: AdaLoRA does not support DoRA');
    if (Object.keys(this.loftqConfig).length > 0) fail('loftq_config', ctx, 'must be empty: AdaLoRA does not support LoftQ');
    if (this.r !== LORA_DEFAULT_R) warn('Note that `r` is not used in AdaLoRA and will be ignored. If you intended to set the initial rank, use `init_r` instead.');
    if (this.initR < 0) fail('init_r', ctx, `must be 0 or more, got ${this.initR}`);
    if (this.totalStep === null || this.totalStep <= 0) fail('total_step', ctx, `must be a number of steps above 0 (AdaLoRA's budget schedule needs it), got ${this.totalStep}`);
    if (this.orthRegWeight < 0) fail('orth_reg_weight', ctx, `must be 0 or more, got ${this.orthRegWeight}`);
    if (this.tinit >= this.totalStep - this.tfinal) {
      fail('tinit', ctx, `(${this.tinit}) must be below total_step - tfinal (${this.totalStep} - ${this.tfinal}) to leave steps for the budget to shrink`);
    }
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): AdaLoraConfig {
    return PeftConfig.loadJSON(AdaLoraConfig, PeftType.ADALORA, json, options);
  }
}

registerPeftConfig(PeftType.ADALORA, AdaLoraConfig);
