// Generation: settings, logits processors and token choice.
export { DEFAULT_NEW_TOKENS, lengthLimits, modelGenerationDefaults, readGenerationConfig, resolveGenerationConfig } from './config.js';
export type { GenerationConfig, GenerationOptions } from './config.js';
export { GenerationConfigError, GenerationError } from './errors.js';
export { applyProcessors, logitsProcessorsFor } from './pipeline.js';
export { minLengthProcessor, noRepeatNgramProcessor, repetitionPenaltyProcessor } from './processors.js';
export type { LogitsProcessor } from './processors.js';
export { greedyTokens, sampleTokens } from './sampling.js';
export { TokenHistory } from './token-history.js';
export { temperatureWarper, topKWarper, topPWarper } from './warpers.js';
