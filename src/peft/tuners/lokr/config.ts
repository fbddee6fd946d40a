// LoKrConfig (PEFT's lokr/config.py): low-rank Kronecker product adapters, ΔW = w1 ⊗ w2 · alpha / r, each factor
// kept whole or as a rank-r product.
import { registerPeftConfig } from '../../mapping.js';
import { bool, fail, field, int, type FieldType } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';
import { LycorisConfig, lycorisFields, type LycorisConfigOptions, type LycorisMethod } from '../lycoris-utils.js';

export type LoKrInitWeights = boolean | 'lycoris';

const initWeightsType: FieldType<LoKrInitWeights> = {
  expected: 'true, false or "lycoris"',
  parse: (v, path, ctx) => (typeof v === 'boolean' || v === 'lycoris' ? v : fail(path, ctx, `must be ${initWeightsType.expected}, got ${JSON.stringify(v)}`)),
  dump: (v) => v,
};

const LOKR: LycorisMethod = {
  peftType: PeftType.LOKR,
  fields: lycorisFields(initWeightsType, [
    field('decompose_both', bool, () => false),
    field('decompose_factor', int, () => -1),
    field('rank_dropout_scale', bool, () => false),
  ]),
};

export interface LoKrConfigOptions extends LycorisConfigOptions {
  /** Also factor the left Kronecker matrix w1 as w1_a·w1_b (when r is small enough). */
  decomposeBoth?: boolean;
  /** Split each dimension into two factors near this one; -1 (default) splits it near its square root. */
  decomposeFactor?: number;
  /** Rank dropout divides the kept rows by the fraction kept. */
  rankDropoutScale?: boolean;
  /** true: w1 starts at zero (ΔW = 0); "lycoris": w2 does instead (the LyCORIS library's way); false: all random. */
  initWeights?: LoKrInitWeights;
}

export class LoKrConfig extends LycorisConfig<LoKrConfigOptions> {
  declare peftType: 'LOKR';
  declare decomposeBoth: boolean;
  declare decomposeFactor: number;
  declare rankDropoutScale: boolean;
  declare initWeights: LoKrInitWeights;

  protected get method(): LycorisMethod {
    return LOKR;
  }
}

registerPeftConfig(PeftType.LOKR, LoKrConfig);
