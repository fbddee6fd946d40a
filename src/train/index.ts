// Training utilities: the optimizer.
export { AdamW } from './optimizer.js';
export type { AdamWOptions, AdamWGroup, AdamWStateDict, ParamGroup } from './optimizer.js';
