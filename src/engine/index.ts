// The compute engine's public surface.
export { Tensor } from './tensor.js';
export type { TypedData } from './tensor.js';
export type { DType } from './dtype.js';
export { Storage } from './storage.js';
export { scope, keep } from './scope.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export { checkpoint } from './checkpoint.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export type { GeneratorState } from './random.js';
export { setNumThreads, getNumThreads } from './threads.js';
export { allocatorStats, setAllocatorCacheLimit, emptyAllocatorCache } from './allocator.js';
export type { AllocatorStats } from './allocator.js';
export * from './errors.js';
export * from './ops/index.js';
