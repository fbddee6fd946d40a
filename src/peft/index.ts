// PEFT: configs, target matching, tuners, PeftModel, adapter saving and loading.
export { AdapterError, AdapterWeightsError, ConfigError, MergeError, TargetModulesError, UnsupportedError } from './errors.js';
export {
  PeftConfig,
  PromptLearningConfig,
  type PeftConfigOptions,
  type PromptLearningConfigOptions,
  type FromJSONOptions,
  type SaveOptions,
  type AutoMapping,
} from './config.js';
export { registerPeftConfig, type PeftConfigClass } from './mapping.js';
export * from './tuners/lora/config.js';
export type * from './tuners/lora/sub-configs.js';
export * from './tuners/tuners-utils.js';
export * from './tuners/match-targets.js';
export { BaseTunerLayer, type MergeOptions } from './tuners/base-tuner-layer.js';
export { BaseTuner, isKeyUnderPrefixes, moduleInfos, tunerStateDictKeyPrefixes, type TunerOptions } from './tuners/base-tuner.js';
export { LoraModel, type LoraModelOptions, type WeightedAdapterOptions } from './tuners/lora/model.js';
export * from './tuners/lora/layer.js';
export { DoraLayer } from './tuners/lora/dora.js';
export type { CombinationType } from './tuners/lora/weighted-adapter.js';
export { TrainableTokensLayer } from './tuners/trainable-tokens/layer.js';
export * from './tuners/prompt-tuning/config.js';
export * from './tuners/p-tuning/config.js';
export * from './tuners/prefix-tuning/config.js';
export * from './tuners/ia3/config.js';
export * from './tuners/adalora/config.js';
export { SVDLinear, type SVDUpdateOptions } from './tuners/adalora/layer.js';
export { AdaLoraModel } from './tuners/adalora/model.js';
export { RankAllocator, type Allocation } from './tuners/adalora/rank-allocator.js';
export { IA3Layer } from './tuners/ia3/layer.js';
export { IA3Model, isFeedforwardModule } from './tuners/ia3/model.js';
export { LycorisConfig, LycorisLayer, LycorisTuner, type LycorisConfigOptions, type LycorisLayerSettings } from './tuners/lycoris-utils.js';
export * from './tuners/loha/config.js';
export { LoHaLayer } from './tuners/loha/layer.js';
export { LoHaModel } from './tuners/loha/model.js';
export * from './tuners/lokr/config.js';
export { factorization, LoKrLayer } from './tuners/lokr/layer.js';
export { LoKrModel } from './tuners/lokr/model.js';
export * from './tuners/vera/config.js';
export { VeraLayer, type SharedProjections, type VeraLayerConfig } from './tuners/vera/layer.js';
export { VeraModel } from './tuners/vera/model.js';
export * from './tuners/oft/config.js';
export { adjustOftParameters, OFTLayer, type OFTLayerConfig } from './tuners/oft/layer.js';
export { cayley, identity, OFTRotation, rotateBlocks, type RotationConfig } from './tuners/oft/rotation.js';
export { OFTModel } from './tuners/oft/model.js';
export * from './tuners/ln-tuning/config.js';
export { LNTuningLayer, type LNTuningLayerConfig, type TunedModule } from './tuners/ln-tuning/layer.js';
export { LNTuningModel } from './tuners/ln-tuning/model.js';
export * from './tuners/hra/config.js';
export { HRALayer, type HRALayerConfig } from './tuners/hra/layer.js';
export { applyReflections, type ReflectionOptions } from './tuners/hra/reflections.js';
export { HRAModel } from './tuners/hra/model.js';
export * from './tuners/boft/config.js';
export { boftBlockShape, BOFTLayer, type BOFTLayerConfig } from './tuners/boft/layer.js';
export { MultiplicativeDropout } from './tuners/boft/dropout.js';
export { BOFTModel } from './tuners/boft/model.js';
export * from './tuners/vblora/config.js';
export { composeFromBank, VBLoRALayer, type VBLoRALayerConfig } from './tuners/vblora/layer.js';
export { VBLoRAModel } from './tuners/vblora/model.js';
export * from './tuners/adaption-prompt/config.js';
export { AdaptedAttention, AdaptedAttentionGPT, BaseAdaptedAttention } from './tuners/adaption-prompt/layer.js';
export { AdaptionPromptModel } from './tuners/adaption-prompt/model.js';
export * from './tuners/fourierft/config.js';
export { FourierFTLayer, type FourierFTLayerConfig } from './tuners/fourierft/layer.js';
export { inverseDftDelta, spectralPositions, type SpectralPositions } from './tuners/fourierft/spectrum.js';
export { FourierFTModel, nFrequencyFor } from './tuners/fourierft/model.js';
export * from './tuners/miss/config.js';
export { MissLayer, type MissLayerConfig, type MissVariant } from './tuners/miss/layer.js';
export { addSharedBlock, batWeight, batWeightRemoved, repeatAlongOutputs, sharedBlockUpdate } from './tuners/miss/shards.js';
export { MissModel } from './tuners/miss/model.js';
export * from './tuners/randlora/config.js';
export { randLoraBases, type RandLoraBasesOptions } from './tuners/randlora/bases.js';
export { RandLoraLayer, type RandLoraLayerConfig, type SharedBases } from './tuners/randlora/layer.js';
export { RandLoraModel } from './tuners/randlora/model.js';
export { ProjectionTuner, type ProjectionNames, type ProjectionTunerConfig } from './tuners/projection-tuner.js';
export { BasePromptEncoder } from './tuners/base-prompt-encoder.js';
export { PromptEmbedding, type PromptEmbeddingOptions } from './tuners/prompt-tuning/model.js';
export { PromptEncoder } from './tuners/p-tuning/model.js';
export { PrefixEncoder } from './tuners/prefix-tuning/model.js';
export { AuxiliaryTrainingWrapper, ModulesToSaveWrapper, TrainableTokensWrapper } from './utils/wrappers.js';
export { PeftType, TaskType } from './utils/peft-types.js';
export * from './utils/constants.js';
export { getPatternKey, preparePromptLearningConfig } from './utils/other.js';
export { pythonFloat } from './utils/python-json.js';
export { PythonRegexError, translatePythonRegex, pyFullmatch, pyMatch } from './utils/python-regex.js';
export { setWarningHandler, type WarningHandler } from './utils/warnings.js';
export type { PromptLearningOptions } from './prompt-learning.js';
export * from './peft-model.js';
export { getPeftModel, type GetPeftModelOptions } from './mapping-func.js';
export {
  getPeftModelStateDict,
  setPeftModelStateDict,
  type AdapterTarget,
  loadPeftWeights,
  selectAdapterStateDict,
  remapAdapterStateDictForLoad,
  removeAdapterNameFromKey,
  type PeftStateLayout,
  type AuxModuleLayout,
} from './utils/save-and-load.js';
/** transformers-style adapters injected into a PreTrainedModel itself (addAdapter, loadAdapter, setAdapter, …). */
export * as transformersAdapters from './integrations/transformers.js';
export * from './tuners/shira/config.js';
export { randomMaskIndices } from './tuners/shira/mask.js';
export { ShiraLayer, type ShiraLayerConfig } from './tuners/shira/layer.js';
export { ShiraModel } from './tuners/shira/model.js';
