// AdaptionPromptModel (PEFT's adaption_prompt/model.py): wraps the attention modules of the top `adapter_layers`
// decoder layers — the last modules whose name ends in `.<target_modules>` — in adapted attentions holding each
// adapter's prompt and gate. Only the prompts and gates train; one adapter is active at a time; nothing merges.
import { GPT2Attention } from '../../../models/gpt2/modeling.js';
import { LlamaAttention } from '../../../models/llama/modeling.js';
import type { Module } from '../../../nn/module.js';
import { ConfigError, UnsupportedError } from '../../errors.js';
import { TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import type { TargetMatch } from '../match-targets.js';
import { AdaptionPromptConfig } from './config.js';
import { AdaptedAttention, AdaptedAttentionGPT, BaseAdaptedAttention, type AdaptedAttentionOptions } from './layer.js';

interface AdaptedAttentionKind {
  /** The attention class a model type's target modules must be. */
  attention: abstract new (...args: never[]) => Module;
  /** The models that attention class belongs to, for the refusal of another module. */
  models: string;
  wrap(base: Module, adapterName: string, adapterLen: number, options: AdaptedAttentionOptions, key: string): BaseAdaptedAttention;
}

const LLAMA_FAMILY: AdaptedAttentionKind = {
  attention: LlamaAttention,
  models: 'Llama and Mistral models',
  wrap: (base, ...rest) => new AdaptedAttention(base as LlamaAttention, ...rest),
};

/** The adapted attention of each model type PEFT supports (its TRANSFORMERS_MODEL_CONFIG). */
const ADAPTED_ATTENTIONS: Readonly<Record<string, AdaptedAttentionKind>> = {
  llama: LLAMA_FAMILY,
  mistral: LLAMA_FAMILY,
  gpt2: { attention: GPT2Attention, models: 'GPT-2 models', wrap: (base, ...rest) => new AdaptedAttentionGPT(base as GPT2Attention, ...rest) },
};

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
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING, 'adaption prompt');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof BaseAdaptedAttention;
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

  private get adaptedAttention(): AdaptedAttentionKind {
    return ADAPTED_ATTENTIONS[this.modelType!]!;
  }

  protected checkTarget(_config: AdaptionPromptConfig, target: Module, key: string): void {
    const { attention, models } = this.adaptedAttention;
    checkLayerKind(target, key, [attention], `adaption prompts wrap the self-attention of ${models}`);
  }

  protected createAndReplace(config: AdaptionPromptConfig, adapterName: string, target: Module, key: string): void {
    const options = { generator: this.options.generator, inferenceMode: config.inferenceMode };
    if (target instanceof BaseAdaptedAttention) return target.updateLayer(adapterName, config.adapterLen!, options);
    this.replaceModule(key, this.adaptedAttention.wrap(target, adapterName, config.adapterLen!, options, key), adapterName);
  }

}
