// Model families, their configs, the Auto classes and loading.
export { PretrainedConfig, ConfigReader } from './config.js';
export type { RawConfig, ProblemType } from './config.js';
export { ModelConfigError } from './errors.js';
export type { LayerKV, ModelInputs, ModelOutput } from './outputs.js';
export { PreTrainedModel } from './pretrained.js';
export type { LoadWeightsReport } from './pretrained.js';
export { loadPretrained, loadModel } from './load.js';
export type { ConfigClass, FromPretrainedOptions, PretrainedClass } from './load.js';
export * from './auto.js';
export { GPT2Config } from './gpt2/config.js';
export * from './gpt2/modeling.js';
export { BertConfig } from './bert/config.js';
export * from './bert/modeling.js';
export { RobertaConfig } from './roberta/config.js';
export * from './roberta/modeling.js';
export { DistilBertConfig } from './distilbert/config.js';
export * from './distilbert/modeling.js';
