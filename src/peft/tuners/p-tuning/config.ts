// PromptEncoderConfig (PEFT's p_tuning/config.py): virtual tokens produced by a small MLP or bidirectional LSTM.
import { PromptLearningConfig, PROMPT_LEARNING_FIELDS, strictContext, type FromJSONOptions, type PromptLearningConfigOptions, PeftConfig } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { fail, field, float, int, literal, nullable, positiveInt, type Field, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';

export const PromptEncoderReparameterizationType = { MLP: 'MLP', LSTM: 'LSTM' } as const;
export type PromptEncoderReparameterizationType = (typeof PromptEncoderReparameterizationType)[keyof typeof PromptEncoderReparameterizationType];

const PROMPT_ENCODER_FIELDS: readonly Field[] = [
  ...PROMPT_LEARNING_FIELDS,
  field('encoder_reparameterization_type', literal(...Object.values(PromptEncoderReparameterizationType)), () => PromptEncoderReparameterizationType.MLP),
  field('encoder_hidden_size', nullable(positiveInt), () => null),
  field('encoder_num_layers', int, () => 2),
  field('encoder_dropout', float, () => 0.0),
];

export interface PromptEncoderConfigOptions extends PromptLearningConfigOptions {
  encoderReparameterizationType?: PromptEncoderReparameterizationType;
  /** Defaults to token_dim when the adapter is added. */
  encoderHiddenSize?: number | null;
  /** LSTM layers; the MLP always has PEFT's fixed three linear layers. */
  encoderNumLayers?: number;
  /** Dropout between LSTM layers. */
  encoderDropout?: number;
}

export class PromptEncoderConfig extends PromptLearningConfig {
  declare peftType: 'P_TUNING';
  declare encoderReparameterizationType: PromptEncoderReparameterizationType;
  declare encoderHiddenSize: number | null;
  declare encoderNumLayers: number;
  declare encoderDropout: number;

  constructor(options: PromptEncoderConfigOptions = {}) {
    super();
    this.assign({ ...options }, strictContext());
  }

  protected get configFields(): readonly Field[] {
    return PROMPT_ENCODER_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.P_TUNING;
    if (this.encoderDropout < 0 || this.encoderDropout > 1) fail('encoder_dropout', ctx, `must be between 0 and 1, got ${this.encoderDropout}`);
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): PromptEncoderConfig {
    return PeftConfig.loadJSON(PromptEncoderConfig, PeftType.P_TUNING, json, options);
  }
}

registerPeftConfig(PeftType.P_TUNING, PromptEncoderConfig);
