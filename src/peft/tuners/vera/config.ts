// VeraConfig (PEFT's vera/config.py): one pair of frozen random projections shared by every targeted layer, and per
// layer two trainable scaling vectors.
import { PeftConfig, type FromJSONOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, field, float, literal, positiveInt, type Field, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';
import { ProjectionConfig, projectionFields, type ProjectionConfigOptions } from '../projection-config.js';

const VERA_FIELDS = projectionFields(field('r', positiveInt, () => 256), [
  field('vera_dropout', float, () => 0.0),
  field('d_initial', float, () => 0.1),
  field('fan_in_fan_out', bool, () => false),
  field('bias', literal('none', 'all', 'vera_only'), () => 'none'),
]);

export interface VeraConfigOptions extends ProjectionConfigOptions {
  /** Rank of the shared projections (higher than LoRA ranks: VeRA trains only r + out values per layer). */
  r?: number;
  /** Seed of torch's CPU generator that draws vera_A and vera_B; every adapter of a model must use the same. */
  projectionPrngKey?: number;
  /** Save vera_A / vera_B with the adapter; false regenerates them from projectionPrngKey on loading. */
  saveProjection?: boolean;
  veraDropout?: number;
  /** Initial value of every vera_lambda_d entry. */
  dInitial?: number;
  bias?: 'none' | 'all' | 'vera_only';
  /** lambda_b starts at 0 and lambda_d at dInitial; false leaves lambda_b at 1 and lambda_d random (for tests). */
  initWeights?: boolean;
}

export class VeraConfig extends ProjectionConfig {
  declare peftType: 'VERA';
  declare veraDropout: number;
  declare dInitial: number;
  declare bias: 'none' | 'all' | 'vera_only';

  constructor(options: VeraConfigOptions = {}) {
    super(options);
  }

  protected get configFields(): readonly Field[] {
    return VERA_FIELDS;
  }

  protected get projectionNames(): string {
    return 'vera_A and vera_B';
  }

  protected get dropout(): [string, number] {
    return ['vera_dropout', this.veraDropout];
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.VERA;
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): VeraConfig {
    return PeftConfig.loadJSON(VeraConfig, PeftType.VERA, json, options);
  }
}

registerPeftConfig(PeftType.VERA, VeraConfig);
