// LoHaConfig (PEFT's loha/config.py): low-rank Hadamard product adapters, ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b) · alpha / r.
import { registerPeftConfig } from '../../mapping.js';
import { bool } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';
import { LycorisConfig, lycorisFields, type LycorisConfigOptions, type LycorisMethod } from '../lycoris-utils.js';

const LOHA: LycorisMethod = { peftType: PeftType.LOHA, fields: lycorisFields(bool, []) };

export interface LoHaConfigOptions extends LycorisConfigOptions {
  /** true: w2_b starts at zero (ΔW = 0); false: every factor random (discouraged, as in PEFT). */
  initWeights?: boolean;
}

export class LoHaConfig extends LycorisConfig<LoHaConfigOptions> {
  declare peftType: 'LOHA';
  declare initWeights: boolean;

  protected get method(): LycorisMethod {
    return LOHA;
  }
}

registerPeftConfig(PeftType.LOHA, LoHaConfig);
