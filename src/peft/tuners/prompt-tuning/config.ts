// PromptTuningConfig (PEFT's prompt_tuning/config.py): trainable virtual-token embeddings, initialised at random,
// from random vocabulary rows or from the embeddings of a text.
import { PromptLearningConfig, PROMPT_LEARNING_FIELDS, strictContext, type FromJSONOptions, type PromptLearningConfigOptions, PeftConfig } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { fail, field, jsonObject, literal, nullable, str, type Field, type JsonValue, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';

export const PromptTuningInit = { TEXT: 'TEXT', SAMPLE_VOCAB: 'SAMPLE_VOCAB', RANDOM: 'RANDOM' } as const;
export type PromptTuningInit = (typeof PromptTuningInit)[keyof typeof PromptTuningInit];

const PROMPT_TUNING_FIELDS: readonly Field[] = [
  ...PROMPT_LEARNING_FIELDS,
  field('prompt_tuning_init', literal(...Object.values(PromptTuningInit)), () => PromptTuningInit.RANDOM),
  field('prompt_tuning_init_text', nullable(str), () => null),
  field('tokenizer_name_or_path', nullable(str), () => null),
  field('tokenizer_kwargs', nullable(jsonObject), () => null),
];

export interface PromptTuningConfigOptions extends PromptLearningConfigOptions {
  promptTuningInit?: PromptTuningInit;
  /** TEXT: the text whose token embeddings (repeated or cut to the virtual tokens) start the prompt. */
  promptTuningInitText?: string | null;
  /** TEXT: the tokenizer of the init text (a local folder or Hub id; recorded in the config). */
  tokenizerNameOrPath?: string | null;
  tokenizerKwargs?: { [key: string]: JsonValue } | null;
}

export class PromptTuningConfig extends PromptLearningConfig {
  declare peftType: 'PROMPT_TUNING';
  declare promptTuningInit: PromptTuningInit;
  declare promptTuningInitText: string | null;
  declare tokenizerNameOrPath: string | null;
  declare tokenizerKwargs: { [key: string]: JsonValue } | null;

  constructor(options: PromptTuningConfigOptions = {}) {
    super();
    this.assign({ ...options }, strictContext());
  }

  protected get configFields(): readonly Field[] {
    return PROMPT_TUNING_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.PROMPT_TUNING;
    const text = this.promptTuningInit === PromptTuningInit.TEXT;
    if (text && !this.tokenizerNameOrPath) fail('tokenizer_name_or_path', ctx, `must be set when prompt_tuning_init is "TEXT", got ${JSON.stringify(this.tokenizerNameOrPath)}`);
    if (text && this.promptTuningInitText === null) fail('prompt_tuning_init_text', ctx, 'must be set when prompt_tuning_init is "TEXT"');
    if (!text && this.tokenizerKwargs !== null && Object.keys(this.tokenizerKwargs).length > 0) {
      fail('tokenizer_kwargs', ctx, 'is only used with prompt_tuning_init "TEXT"');
    }
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): PromptTuningConfig {
    return PeftConfig.loadJSON(PromptTuningConfig, PeftType.PROMPT_TUNING, json, options);
  }
}

registerPeftConfig(PeftType.PROMPT_TUNING, PromptTuningConfig);
