// peftjs: parameter-efficient fine-tuning of transformer models in TypeScript.
export * from './engine/index.js';
export * from './io/hub/index.js';
export { openFileSource, ModelFolderError } from './io/file-source.js';
export type { FileSource, SourceOptions } from './io/file-source.js';
export { JsonFileError, readJsonObject } from './io/json-file.js';
export * from './io/model-folder.js';
export * from './io/adapter-folder.js';
export * from './tokenizers/index.js';
