// peftjs: parameter-efficient fine-tuning of transformer models in TypeScript.
export * from './engine/index.js';
export * from './io/index.js';
export * from './tokenizers/index.js';
export * from './train/index.js';
export * from './eval/index.js';
export * from './peft/index.js';
export * from './generate/index.js';
export * from './nn/index.js';
export * from './models/index.js';
