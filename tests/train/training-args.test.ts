import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTrainingArguments, TrainingArgumentsError } from '../../src/train/index.js';

test('defaults are transformers\' TrainingArguments defaults', () => {
  const a = resolveTrainingArguments();
  assert.deepEqual(
    [a.learningRate, a.numTrainEpochs, a.maxSteps, a.perDeviceTrainBatchSize, a.gradientAccumulationSteps, a.weightDecay, a.adamBeta1, a.adamBeta2, a.adamEpsilon, a.maxGradNorm, a.lrSchedulerType, a.warmupSteps, a.loggingSteps, a.saveSteps, a.saveTotalLimit, a.seed, a.outputDir],
    [5e-5, 3, -1, 8, 1, 0, 0.9, 0.999, 1e-8, 1, 'linear', 0, 500, 500, null, 42, 'trainer_output'],
  );
});

test('snake_case options from config files and camelCase options resolve alike', () => {
  const fromConfig = resolveTrainingArguments({ learning_rate: 2e-4, per_device_train_batch_size: 4, lr_scheduler_type: 'cosine', adam_beta2: 0.95, save_total_limit: 2, resume_from_checkpoint: true, eval_steps: null });
  const fromApi = resolveTrainingArguments({ learningRate: 2e-4, perDeviceTrainBatchSize: 4, lrSchedulerType: 'cosine', adamBeta2: 0.95, saveTotalLimit: 2, resumeFromCheckpoint: true });
  assert.deepEqual(fromConfig, fromApi);
});

test('bad options raise a TrainingArgumentsError naming the option', () => {
  const rejects = (input: Record<string, unknown>, option: string, pattern: RegExp) =>
    assert.throws(() => resolveTrainingArguments(input), (e: unknown) => e instanceof TrainingArgumentsError && e.option === option && pattern.test(e.message));
  rejects({ lerning_rate: 1e-3 }, 'lerning_rate', /option 'lerning_rate' is unknown \(did you mean learningRate\?\)/);
  rejects({ learning_rate: 1e-3, learningRate: 1e-3 }, 'learningRate', /given twice \(also as 'learning_rate'\)/);
  rejects({ learningRate: '1e-3' }, 'learningRate', /must be a finite number >= 0, got "1e-3"/);
  rejects({ per_device_train_batch_size: 0 }, 'per_device_train_batch_size', /integer >= 1/);
  rejects({ gradientAccumulationSteps: 1.5 }, 'gradientAccumulationSteps', /integer >= 1/);
  rejects({ adamBeta1: 1 }, 'adamBeta1', /\[0, 1\)/);
  rejects({ lrSchedulerType: 'polynomial' }, 'lrSchedulerType', /one of constant, constant_with_warmup, linear, cosine/);
  rejects({ loggingSteps: 2.5 }, 'loggingSteps', /positive integer or a ratio in \(0, 1\)/);
  rejects({ warmupSteps: 10, warmupRatio: 0.1 }, 'warmupRatio', /cannot be combined with warmupSteps/);
  rejects({ outputDir: '' }, 'outputDir', /non-empty path/);
  rejects({ resumeFromCheckpoint: 3 }, 'resumeFromCheckpoint', /checkpoint path, true or false/);
});
