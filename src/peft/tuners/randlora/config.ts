// RandLoraConfig (PEFT's randlora/config.py): a pair of frozen random bases shared by every targeted layer, and per
// layer a trainable lambda [r, num_bases] and gamma [num_bases, min(in, out)] that scale them.
import { PeftConfig, type FromJSONOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, field, float, literal, num, positiveInt, type Field, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';
import { ProjectionConfig, projectionFields, type ProjectionConfigOptions } from '../projection-config.js';

const RANDLORA_FIELDS = projectionFields(field('r', positiveInt, () => 32), [
  field('sparse', bool, () => false),
  field('very_sparse', bool, () => false),
  field('randlora_dropout', float, () => 0.0),
  field('fan_in_fan_out', bool, () => false),
  field('randlora_alpha', num, () => 640),
  field('bias', literal('none', 'all', 'randlora_only'), () => 'none'),
]);

export interface RandLoraConfigOptions extends ProjectionConfigOptions {
  /** Rank of each random basis; lower ranks mean more bases (ceil(min(in, out) / r)) and so more trainable values. */
  r?: number;
  /** Seed of torch's CPU generator that draws randlora_A and randlora_B; every adapter of a model must use the same. */
  projectionPrngKey?: number;
  /** Save randlora_A / randlora_B with the adapter; false regenerates them from projectionPrngKey on loading. */
  saveProjection?: boolean;
  /** Ternary bases (-1, 0, 1 with probabilities 1/6, 2/3, 1/6). */
  sparse?: boolean;
  /** Ternary bases with 1/sqrt(min_dim) for each of -1 and 1; takes precedence over `sparse`. */
  verySparse?: boolean;
  randloraDropout?: number;
  /** The update is scaled by randloraAlpha / r. */
  randloraAlpha?: number;
  bias?: 'none' | 'all' | 'randlora_only';
  /** lambda starts at 0 and gamma at 1/max(gamma's shape); false leaves lambda N(0, 1) and gamma at 1/max(in, out) (for tests). */
  initWeights?: boolean;
}

export class RandLoraConfig extends ProjectionConfig {
  declare peftType: 'RANDLORA';
  declare sparse: boolean;
  declare verySparse: boolean;
  declare randloraDropout: number;
  declare randloraAlpha: number;
  declare bias: 'none' | 'all' | 'randlora_only';

  constructor(options: RandLoraConfigOptions = {}) {
    super(options);
  }

  protected get configFields(): readonly Field[] {
    return RANDLORA_FIELDS;
  }

  protected get projectionNames(): string {
    return 'randlora_A and randlora_B';
  }

  protected get dropout(): [string, number] {
    return ['randlora_dropout', this.randloraDropout];
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.RANDLORA;
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): RandLoraConfig {
    return PeftConfig.loadJSON(RandLoraConfig, PeftType.RANDLORA, json, options);
  }
}

registerPeftConfig(PeftType.RANDLORA, RandLoraConfig);
