// Training utilities: the optimizer, gradient clipping and the data pipeline.
export { AdamW } from './optimizer.js';
export type { AdamWOptions, AdamWGroup, AdamWStateDict, ParamGroup } from './optimizer.js';
export { clipGradNorm } from './clip-grad.js';
export * from './data/index.js';
