// AdaptionPromptConfig (PEFT's adaption_prompt/config.py): LLaMA-Adapter's learned prompts of `adapter_len` tokens,
// attended to through a zero-initialised gate by the attention modules (`target_modules`, one name) of the top
// `adapter_layers` decoder layers.
import { PeftConfig, PEFT_CONFIG_FIELDS, strictContext, type FromJSONOptions, type PeftConfigOptions } from '../../config.js';
import { registerPeftConfig } from '../../mapping.js';
import { field, nullable, positiveInt, str, type Field, type ParseContext } from '../../utils/config-fields.js';
import { PeftType } from '../../utils/peft-types.js';

const ADAPTION_PROMPT_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('target_modules', nullable(str), () => null),
  field('adapter_len', nullable(positiveInt), () => null),
  field('adapter_layers', nullable(positiveInt), () => null),
];

export interface AdaptionPromptConfigOptions extends PeftConfigOptions {
  /** Name of the attention submodules that get the prompts; the model type's default (PEFT's table) when null. */
  targetModules?: string | null;
  /** Number of prompt tokens. */
  adapterLen?: number | null;
  /** Number of decoder layers, counted from the top, whose attention gets the prompts. */
  adapterLayers?: number | null;
}

export class AdaptionPromptConfig extends PeftConfig {
  declare peftType: 'ADAPTION_PROMPT';
  declare targetModules: string | null;
  declare adapterLen: number | null;
  declare adapterLayers: number | null;
  // Target and training settings adaption prompts do not have; matching and saving read them as unset.
  declare excludeModules: null;
  declare modulesToSave: null;
  declare layersToTransform: null;
  declare layersPattern: null;
  declare targetParameters: null;
  declare trainableTokenIndices: null;

  constructor(options: AdaptionPromptConfigOptions = {}) {
    super();
    this.assign({ ...options }, strictContext());
  }

  protected get configFields(): readonly Field[] {
    return ADAPTION_PROMPT_FIELDS;
  }

  protected override postInit(ctx: ParseContext): void {
    super.postInit(ctx);
    this.peftType = PeftType.ADAPTION_PROMPT;
    Object.assign(this, { excludeModules: null, modulesToSave: null, layersToTransform: null, layersPattern: null, targetParameters: null, trainableTokenIndices: null });
  }

  static override fromJSON(json: unknown, options: FromJSONOptions = {}): AdaptionPromptConfig {
    return PeftConfig.loadJSON(AdaptionPromptConfig, PeftType.ADAPTION_PROMPT, json, options);
  }
}

registerPeftConfig(PeftType.ADAPTION_PROMPT, AdaptionPromptConfig);
