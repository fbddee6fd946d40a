// Training utilities: the optimizer, gradient clipping, learning-rate schedules, training options and the data pipeline.
export { AdamW } from './optimizer.js';
export type { AdamWOptions, AdamWGroup, AdamWStateDict, ParamGroup } from './optimizer.js';
export { clipGradNorm } from './clip-grad.js';
export * from './data/index.js';
export { TrainerError, TrainingArgumentsError, CheckpointError } from './errors.js';
export { LR_SCHEDULER_TYPES, LrScheduler, lrMultiplier, createScheduler } from './schedules.js';
export type { LrSchedulerType, ScheduleOptions, SchedulerState } from './schedules.js';
export { getDecayParameterNames, createOptimizer } from './decay.js';
export type { OptimizerSettings } from './decay.js';
export { resolveTrainingArguments, warmupStepsFor } from './training-args.js';
export type { TrainingArguments, TrainingArgumentsInput } from './training-args.js';
