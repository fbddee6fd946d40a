// Layers with Hugging Face parameter names.
export { Module, ModuleList, StateDictError } from './module.js';
export type { LoadStateDictOptions, LoadStateDictResult } from './module.js';
export { Linear, Conv1D } from './linear.js';
export type { LayerInit } from './linear.js';
export { Embedding } from './embedding.js';
export { castLayerWeights } from './layer-dtype.js';
export type { CastReport, WeightDType } from './layer-dtype.js';
export { LayerNorm, RMSNorm } from './norm.js';
export { Dropout } from './dropout.js';
export { Identity } from './identity.js';
export { LSTM, type LSTMOptions } from './lstm.js';
export { ReLU, Sequential, Tanh } from './sequential.js';
export { ModuleDict, ParameterDict, BufferDict } from './containers.js';
