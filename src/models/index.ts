// Model families, their configs and the Auto classes. Importing this module registers every family.
export { PretrainedConfig, ConfigReader } from './config.js';
export type { RawConfig, ProblemType } from './config.js';
export { ModelConfigError } from './errors.js';
export type { LayerKV, ModelInputs, ModelOutput } from './outputs.js';
export { PreTrainedModel } from './pretrained.js';
export type { LoadWeightsReport } from './pretrained.js';
export { loadPretrained } from './load.js';
export type { FromPretrainedOptions, ModelBuilder } from './load.js';
export * from './auto.js';
export * from './llama/index.js';
export * from './t5/index.js';
