// Tokenizers: tokenizer.json pipelines with transformers' special tokens, padding, truncation and chat templates.
export { Tokenizer } from './tokenizer.js';
export type { BatchOptions, ChatTemplateOptions, DecodeOptions, EncodeOptions, EncodingWithOffsets, TokenizerSource } from './tokenizer.js';
export type { Offset } from './offsets.js';
export type { EncodedInputs } from './special-inputs.js';
export type { BatchEncoding } from './batch.js';
export type { ChatMessage, RenderOptions } from './chat-template.js';
export { SPECIAL_TOKEN_NAMES, NO_MAX_LENGTH } from './config.js';
export type { Side, SpecialTokenName } from './config.js';
export { loadTokenizer, tokenizerFromFiles } from './load.js';
export { TokenizerError } from './errors.js';
