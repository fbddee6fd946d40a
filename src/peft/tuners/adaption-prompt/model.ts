// AdaptionPromptModel (PEFT's adaption_prompt/model.py): wraps the attention modules of the top `adapter_layers`
// decoder layers — the last modules whose name ends in `.<target_modules>` — in adapted attentions holding each
// adapter's prompt and gate. Only the prompts and gates train; one adapter is active at a time; nothing merges.
import { LlamaAttention } from '../../../models/llama/modeling.js';
import type { Module } from '../../../nn/module.js';
import { ConfigError, UnsupportedError } from '../../errors.js';
import { TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import type { TargetMatch } from '../match-targets.js';
import { AdaptionPromptConfig } from './config.js';
import { AdaptedAttention } from './layer.js';

/** The model types whose attention this implementation adapts (PEFT also adapts gpt2's). */
const IMPLEMENTED_MODEL_TYPES = ['llama', 'mistral'];

export class AdaptionPromptModel<M extends Module = Module> extends BaseTuner<AdaptionPromptConfig, M> {
  protected readonly configClass = AdaptionPromptConfig;

  constructor(model: M, config: AdaptionPromptConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
  }

  /** PEFT's prepare_config: only supported model types, whose default attention name fills target_modules. */
  protected override injectAdapter(adapterName: string): void {
    const modelType = this.modelType ?? 'custom';
    if (TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING[modelType] === undefined) {
      const supported = Object.keys(TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING).join(', ');
      throw new UnsupportedError(`unsupported model type for adaption prompt: '${modelType}' (PEFT supports ${supported})`);
    }
    if (!IMPLEMENTED_MODEL_TYPES.includes(modelType)) {
      throw new UnsupportedError(`adaption prompts for model type '${modelType}' are not implemented (implemented: ${IMPLEMENTED_MODEL_TYPES.join(', ')})`);
    }
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING, 'adaption prompt');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof AdaptedAttention;
  }

  protected checkNewAdapterConfig(config: AdaptionPromptConfig): void {
    for (const [key, value] of [['adapter_len', config.adapterLen], ['adapter_layers', config.adapterLayers]] as const) {
      if (value === null) throw new ConfigError(key, 'must be set to a positive integer for adaption prompts');
    }
  }

  /** The top `adapter_layers` modules whose name ends in `.<target_modules>`, in module order. */
  protected override resolveTargets(config: AdaptionPromptConfig): TargetMatch {
    const target = config.targetModules!;
    const matches = [...this.model.namedModules()].map(([name]) => name).filter((name) => name.endsWith(`.${target}`));
    const layers = config.adapterLayers!;
    if (matches.length < layers) throw new ConfigError('adapter_layers', `is ${layers}, more than the ${matches.length} '${target}' modules the model has`);
    return { targetModules: target, targeted: matches.slice(-layers), excluded: [], unmatched: [] };
  }

  protected checkTarget(_config: AdaptionPromptConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [LlamaAttention], 'adaption prompts wrap the self-attention of Llama and Mistral models');
  }

  protected createAndReplace(config: AdaptionPromptConfig, adapterName: string, target: Module, key: string): void {
    const options = { generator: this.options.generator, inferenceMode: config.inferenceMode };
    if (target instanceof AdaptedAttention) return target.updateLayer(adapterName, config.adapterLen!, options);
    this.replaceModule(key, new AdaptedAttention(target as LlamaAttention, adapterName, config.adapterLen!, options, key), adapterName);
  }

}
