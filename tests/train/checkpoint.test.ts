import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromArray } from '../../src/engine/index.js';
import { CheckpointError, listCheckpoints, Trainer, type TrainableModel, type TrainingArgumentsInput } from '../../src/train/index.js';
import type { Batch } from '../../src/train/index.js';
import { goneProcessId } from '../helpers/gone-process.js';
import { makeTempDir } from '../helpers/temp.js';
import { collateFeatures, collateTokens, mlpModel, separableData, tinyLmModel, tokenData, type FeatureBatch } from '../helpers/toy-models.js';

const lmData = tokenData(10, 16, 11);
const lmArgs = { maxSteps: 6, perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2, saveSteps: 2, learningRate: 0.02, weightDecay: 0.01, disableTqdm: true };

function lmTrainer(outputDir: string, model: TrainableModel<Batch> = tinyLmModel({ dropout: 0.3 }), args: TrainingArgumentsInput = {}): Trainer<(typeof lmData)[number], Batch> {
  return new Trainer({ model, trainData: lmData, collate: collateTokens, args: { ...lmArgs, outputDir, ...args } });
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const tmp = makeTempDir();
  try {
    await fn(tmp.dir);
  } finally {
    tmp.remove();
  }
}

const adapterBytes = (dir: string) => readFileSync(join(dir, 'adapter_model.safetensors'));

test('checkpoint rotation keeps saveTotalLimit checkpoints, always the latest and the best', () =>
  withTemp(async (dir) => {
    const base = mlpModel(9);
    const evalLosses = [5, 1, 3, 4, 6];
    let evals = 0;
    const model: TrainableModel<FeatureBatch> = {
      ...base,
      computeLoss: (batch, options) => (base.module.training ? base.computeLoss(batch, options) : fromArray([evalLosses[evals++]!])),
    };
    const seen: number[][] = [];
    const trainer = new Trainer({
      model,
      trainData: separableData(8, 1),
      evalData: separableData(1, 2),
      collate: collateFeatures,
      args: { outputDir: dir, maxSteps: 10, perDeviceTrainBatchSize: 4, evalSteps: 2, saveSteps: 2, saveTotalLimit: 2, disableTqdm: true },
      callbacks: [{ onSave: () => void seen.push(listCheckpoints(dir).map((c) => c.step)) }],
    });
    await trainer.train();
    assert.deepEqual(seen, [[2], [2, 4], [4, 6], [4, 8], [4, 10]]);
    const state = JSON.parse(readFileSync(join(dir, 'checkpoint-10', 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([state['best_metric'], state['best_global_step'], state['best_model_checkpoint']], [1, 4, join(dir, 'checkpoint-4')]);
    assert.deepEqual(
      Object.keys(state),
      ['best_global_step', 'best_metric', 'best_model_checkpoint', 'epoch', 'eval_steps', 'global_step', 'is_hyper_param_search', 'is_local_process_zero', 'is_world_process_zero', 'log_history', 'logging_steps', 'max_steps', 'num_input_tokens_seen', 'num_train_epochs', 'save_steps', 'stateful_callbacks', 'total_flos', 'train_batch_size', 'trial_name', 'trial_params'],
      'transformers\' TrainerState fields',
    );
  }));

test('a failed save leaves no checkpoint folder behind; resuming from the last one matches an uninterrupted run byte for byte', () =>
  withTemp(async (dir) => {
    const reference = join(dir, 'reference');
    await lmTrainer(reference).train();

    const run = join(dir, 'run');
    const model = tinyLmModel({ dropout: 0.3 });
    let saves = 0;
    const failing = { ...model, saveAdapter: (d: string) => (++saves === 2 ? (() => { throw new Error('disk full'); })() : model.saveAdapter(d)) };
    await assert.rejects(lmTrainer(run, failing).train(), /disk full/);
    assert.deepEqual(readdirSync(run).sort(), ['checkpoint-2', 'loss.svg', 'metrics.jsonl'], 'the save at step 4 left nothing');

    // The same model object, advanced to step 4 in memory: resuming restores step 2 exactly.
    const out = await lmTrainer(run, model, { resumeFromCheckpoint: true }).train();
    assert.equal(out.globalStep, 6);
    for (const step of [4, 6]) assert.ok(adapterBytes(join(run, `checkpoint-${step}`)).equals(adapterBytes(join(reference, `checkpoint-${step}`))), `checkpoint-${step}`);
    assert.ok(adapterBytes(run).equals(adapterBytes(reference)), 'final adapter');
    const lines = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const losses = (d: string) => lines(d).filter((e) => 'loss' in e).map((e) => [e['step'], e['loss']]);
    assert.deepEqual(losses(run).slice(2), losses(reference).slice(2), 'logged losses after the checkpoint');
  }));

test('leftovers of interrupted saves are removed when training starts', () =>
  withTemp(async (dir) => {
    const gone = goneProcessId();
    mkdirSync(join(dir, `.checkpoint-9.tmp-${gone}-deadbeef`));
    writeFileSync(join(dir, `.metrics.jsonl.${gone}.deadbeef.tmp`), 'partial');
    writeFileSync(join(dir, '.keep'), '');
    await lmTrainer(dir, tinyLmModel(), { maxSteps: 2 }).train();
    assert.deepEqual(readdirSync(dir).sort(), ['.keep', 'adapter_model.safetensors', 'checkpoint-2', 'loss.svg', 'metrics.jsonl']);
  }));

test('resume errors name the folder, file and key', () =>
  withTemp(async (dir) => {
    const isCheckpointError = (file: string, pattern: RegExp) => (e: unknown) => e instanceof CheckpointError && e.file === file && pattern.test(e.message);
    await assert.rejects(lmTrainer(dir, tinyLmModel(), { resumeFromCheckpoint: true }).train(), isCheckpointError(dir, /no checkpoint-<step> folder/));
    const missing = join(dir, 'checkpoint-7');
    await assert.rejects(lmTrainer(dir, tinyLmModel(), { resumeFromCheckpoint: missing }).train(), isCheckpointError(missing, /does not exist/));

    await lmTrainer(dir, tinyLmModel(), { maxSteps: 2 }).train();
    const checkpoint = join(dir, 'checkpoint-2');
    const params = join(checkpoint, 'trainable_parameters.safetensors');
    const frozen = tinyLmModel({ freezeEmbedding: true });
    await assert.rejects(lmTrainer(dir, frozen, { resumeFromCheckpoint: true }).train(), (e: unknown) => e instanceof CheckpointError && e.file === params && e.key === 'embed_tokens.weight' && /not a trainable parameter/.test(e.message));
    const wider = tinyLmModel({ dim: 12 });
    await assert.rejects(lmTrainer(dir, wider, { resumeFromCheckpoint: true }).train(), (e: unknown) => e instanceof CheckpointError && e.key === 'embed_tokens.weight' && /float32 \[16, 8\], the model's parameter is float32 \[16, 12\]/.test(e.message));
    rmSync(join(checkpoint, 'rng_state.json'));
    await assert.rejects(lmTrainer(dir, tinyLmModel(), { resumeFromCheckpoint: true }).train(), isCheckpointError(join(checkpoint, 'rng_state.json'), /is missing/));
  }));
