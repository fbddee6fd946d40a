// PrefixTuningConfig (PEFT's prefix_tuning/config.py): a trainable key/value prefix for every attention layer,
// optionally produced by a two-layer MLP (prefix_projection).
import { PromptLearningConfig, PROMPT_LEARNING_FIELDS, strictContext, type FromJSONOptions, type PromptLearningConfigOptions, PeftConfig } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { bool, field, literal, nullable, positiveInt, type Field, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';

const PREFIX_TUNING_FIELDS: readonly Field[] = [
  ...PROMPT_LEARNING_FIELDS,
  field('init_weights', nullable(literal('zero')), () => null),
  field('encoder_hidden_size', nullable(positiveInt), () => null),
  field('prefix_projection', bool, () => false),
];

export interface PrefixTuningConfigOptions extends PromptLearningConfigOptions {
  /** "zero": the prefix (or the projection's last layer) starts at zero; null: random. */
  initWeights?: 'zero' | null;
  /** Hidden size of the projection MLP; defaults to token_dim when the adapter is added. */
  encoderHiddenSize?: number | null;
  prefixProjection?: boolean;
}

export class PrefixTuningConfig extends PromptLearningConfig {
  declare peftType: 'PREFIX_TUNING';
  declare initWeights: 'zero' | null;
  declare encoderHiddenSize: number | null;
  declare prefixProjection: boolean;

  constructor(options: PrefixTuningConfigOptions = {}) {
    super();
    this.assign({ ...options }, strictContext());
  }

  protected get configFields(): readonly Field[] {
    return PREFIX_TUNING_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.PREFIX_TUNING;
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): PrefixTuningConfig {
    return PeftConfig.loadJSON(PrefixTuningConfig, PeftType.PREFIX_TUNING, json, options);
  }
}

registerPeftConfig(PeftType.PREFIX_TUNING, PrefixTuningConfig);
