// Training utilities: the optimizer and gradient clipping.
export { AdamW } from './optimizer.js';
export type { AdamWOptions, AdamWGroup, AdamWStateDict, ParamGroup } from './optimizer.js';
export { clipGradNorm } from './clip-grad.js';
