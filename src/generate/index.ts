// Generation: settings, logits processors, token choice, stopping and the decoding loop.
export { decode, decodeStream } from './decode.js';
export type { DecodingChunk, DecodingOptions, DecodingResult, FinishReason } from './decode.js';
export { DEFAULT_NEW_TOKENS, lengthLimits, modelGenerationDefaults, readGenerationConfig, resolveGenerationConfig } from './config.js';
export type { GenerationConfig, GenerationOptions } from './config.js';
export { IncrementalDetokenizer } from './detokenizer.js';
export type { TokenDecoder } from './detokenizer.js';
export { GenerationConfigError, GenerationError } from './errors.js';
export { applyProcessors, logitsProcessorsFor } from './pipeline.js';
export { minLengthProcessor, noRepeatNgramProcessor, repetitionPenaltyProcessor } from './processors.js';
export type { LogitsProcessor } from './processors.js';
export type { PromptBatch } from './prompt.js';
export { greedyTokens, sampleTokens } from './sampling.js';
export type { StepFn, StepInput } from './step.js';
export { StopStrings } from './stop-strings.js';
export { TokenHistory } from './token-history.js';
export { temperatureWarper, topKWarper, topPWarper } from './warpers.js';
