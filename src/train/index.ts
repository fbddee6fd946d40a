// Training utilities: the optimizer, gradient clipping, the data pipeline and the Trainer.
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
export type { LossOptions, TrainableModel, TrainerCallbacks, TrainerStateView, LogEntry } from './trainable.js';
export { CHECKPOINT_FILES, latestCheckpoint, listCheckpoints } from './checkpoint.js';
export { METRICS_FILE, LOSS_CHART_FILE } from './metrics.js';
export { lossChartSvg } from './plot.js';
export type { ProgressStream } from './progress.js';
export { Trainer } from './trainer.js';
export type { TrainerOptions, TrainOutput } from './trainer.js';
