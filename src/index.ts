// peftjs: parameter-efficient fine-tuning of transformer models in TypeScript.
export * from './engine/index.js';
export * from './train/index.js';
export { checkpoint } from './engine/checkpoint.js';
