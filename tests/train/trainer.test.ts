import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { zeros } from '../../src/engine/index.js';
import { join } from 'node:path';
import { Trainer, TrainerError, type LogEntry, type TrainableModel, type TrainingArgumentsInput } from '../../src/train/index.js';
import type { Module } from '../../src/nn/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { makeTempDir } from '../helpers/temp.js';
import { collateFeatures, collateTokens, mlpModel, separableData, tinyLmModel, tokenData } from '../helpers/toy-models.js';

function paramValues(module: Module): Map<string, Float32Array> {
  return new Map(module.namedParameters().map(([n, p]) => [n, Float32Array.from(p.toArray())]));
}

async function trainWith<E, B>(model: TrainableModel<B>, data: E[], collate: (e: E[]) => B, args: TrainingArgumentsInput): Promise<LogEntry[]> {
  const tmp = makeTempDir();
  try {
    const trainer = new Trainer({ model, trainData: data, collate, args: { outputDir: tmp.dir, disableTqdm: true, loggingSteps: 1, saveSteps: 0, ...args } });
    await trainer.train();
    return trainer.state.logHistory.filter((e) => 'loss' in e);
  } finally {
    tmp.remove();
  }
}

async function assertAccumulationEquivalent<E, B>(make: () => TrainableModel<B>, data: E[], collate: (e: E[]) => B, args: TrainingArgumentsInput): Promise<void> {
  const whole = make();
  const split = make();
  const wholeLog = await trainWith(whole, data, collate, { ...args, perDeviceTrainBatchSize: 4, gradientAccumulationSteps: 1 });
  const splitLog = await trainWith(split, data, collate, { ...args, perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2 });
  assert.equal(splitLog.length, wholeLog.length);
  assertClose(splitLog.map((e) => e['loss']!), wholeLog.map((e) => e['loss']!), { atol: 1e-6, rtol: 0 }, 'logged losses');
  assertClose(splitLog.map((e) => e['grad_norm']!), wholeLog.map((e) => e['grad_norm']!), { atol: 1e-6, rtol: 0 }, 'gradient norms');
  const after = paramValues(split.module);
  for (const [name, values] of paramValues(whole.module)) assertClose(after.get(name)!, values, { atol: 1e-6, rtol: 0 }, name);
}

test('gradient accumulation: 2 micro-batches of 2 give the losses and updates of batches of 4 (mean losses)', async () => {
  await assertAccumulationEquivalent(() => mlpModel(5), separableData(16, 1), collateFeatures, { maxSteps: 8, learningRate: 0.01, weightDecay: 0.1, maxGradNorm: 0.5 });
});

test('gradient accumulation with token counts (num_items_in_batch): sequences of uneven length', async () => {
  const data = tokenData(16, 16, 2);
  const args = { maxSteps: 8, learningRate: 0.01, lrSchedulerType: 'cosine', warmupSteps: 2 } as const;
  await assertAccumulationEquivalent(() => tinyLmModel(), data, collateTokens, args);
  // Averaging the micro-batches' own means instead weighs tokens unevenly: the first losses differ.
  const perBatch = await trainWith(tinyLmModel({ countItems: false }), data, collateTokens, { ...args, perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2 });
  const whole = await trainWith(tinyLmModel(), data, collateTokens, { ...args, perDeviceTrainBatchSize: 4 });
  assert.ok(Math.abs(perBatch[0]!['loss']! - whole[0]!['loss']!) > 1e-4, 'the token-count normalisation matters for this data');
});

test('the loss goes down on a separable toy task and evaluation reports it', async () => {
  const tmp = makeTempDir();
  try {
    const trainer = new Trainer({
      model: mlpModel(7),
      trainData: separableData(64, 3),
      evalData: separableData(32, 4),
      collate: collateFeatures,
      args: { outputDir: tmp.dir, disableTqdm: true, numTrainEpochs: 6, perDeviceTrainBatchSize: 8, learningRate: 0.05, loggingSteps: 8, evalSteps: 16, saveSteps: 0 },
    });
    const before = (await trainer.evaluate())['eval_loss']!;
    const out = await trainer.train();
    assert.equal(out.globalStep, 48);
    assert.equal(out.interrupted, false);
    const evals = trainer.state.logHistory.filter((e) => 'eval_loss' in e).map((e) => e['eval_loss']!);
    assert.deepEqual(trainer.state.logHistory.filter((e) => 'eval_loss' in e).map((e) => e['step']), [0, 16, 32, 48]);
    assert.ok(evals.at(-1)! < before / 2, `eval loss ${before} -> ${evals.at(-1)}`);
    const train = trainer.state.logHistory.filter((e) => 'loss' in e).map((e) => e['loss']!);
    assert.ok(train.at(-1)! < train[0]! / 2, `train loss ${train[0]} -> ${train.at(-1)}`);
    assert.equal(trainer.state.epoch, 6);
  } finally {
    tmp.remove();
  }
});

test('only trainable parameters change (frozen embedding; dropout on)', async () => {
  const model = tinyLmModel({ freezeEmbedding: true, dropout: 0.2 });
  const before = paramValues(model.module);
  await trainWith(model, tokenData(12, 16, 5), collateTokens, { maxSteps: 5, learningRate: 0.01, weightDecay: 0.1 });
  const after = paramValues(model.module);
  for (const [name, values] of before) {
    const same = Buffer.from(values.buffer).equals(Buffer.from(after.get(name)!.buffer));
    assert.equal(same, name === 'embed_tokens.weight', `${name} ${same ? 'unchanged' : 'changed'}`);
  }
});

test('logs, evaluations and checkpoints reach the callbacks, metrics.jsonl, loss.svg and the progress lines', async () => {
  const tmp = makeTempDir();
  const events: string[] = [];
  const logged: LogEntry[] = [];
  const output: string[] = [];
  try {
    const trainer = new Trainer({
      model: tinyLmModel({ dropout: 0.1 }),
      trainData: tokenData(12, 16, 6),
      evalData: tokenData(5, 16, 7),
      collate: collateTokens,
      args: { output_dir: tmp.dir, max_steps: 6, per_device_train_batch_size: 3, logging_steps: 2, eval_steps: 3, save_steps: 3, learning_rate: 0.01 },
      output: { write: (text: string) => output.push(text) },
      callbacks: [
        {
          onStep: (s) => void events.push(`step ${s.globalStep}`),
          onLog: (entry) => void logged.push(entry),
          onEvaluate: (m, s) => void events.push(`eval ${s.globalStep} ${m['eval_loss']!.toFixed(3)}`),
          onSave: (dir, s) => void events.push(`save ${s.globalStep} ${dir}`),
        },
      ],
    });
    await trainer.train();
    const evalAt = (step: number) => trainer.state.logHistory.find((e) => e['step'] === step && 'eval_loss' in e)!['eval_loss']!.toFixed(3);
    assert.deepEqual(events, [
      'step 1', 'step 2', 'step 3', `eval 3 ${evalAt(3)}`, `save 3 ${join(tmp.dir, 'checkpoint-3')}`,
      'step 4', 'step 5', 'step 6', `eval 6 ${evalAt(6)}`, `save 6 ${join(tmp.dir, 'checkpoint-6')}`,
    ]);
    assert.deepEqual(logged, trainer.state.logHistory);
    const lines = readFileSync(join(tmp.dir, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as LogEntry);
    assert.deepEqual(lines, trainer.state.logHistory);
    assert.deepEqual(lines.map((e) => [e['step'], Object.keys(e).sort().join(',')]), [
      [2, 'epoch,grad_norm,learning_rate,loss,step,tokens_per_second'],
      [3, 'epoch,eval_loss,eval_perplexity,eval_runtime,eval_samples_per_second,eval_steps_per_second,step'],
      [4, 'epoch,grad_norm,learning_rate,loss,step,tokens_per_second'],
      [6, 'epoch,grad_norm,learning_rate,loss,step,tokens_per_second'],
      [6, 'epoch,eval_loss,eval_perplexity,eval_runtime,eval_samples_per_second,eval_steps_per_second,step'],
      [6, 'epoch,step,train_loss,train_runtime'],
    ]);
    const e3 = lines[1]!;
    assert.equal(e3['eval_perplexity'], Math.exp(e3['eval_loss']!));
    assert.deepEqual(lines.map((e) => e['epoch']), [0.5, 0.75, 1, 1.5, 1.5, 1.5]);
    const state = JSON.parse(readFileSync(join(tmp.dir, 'checkpoint-3', 'trainer_state.json'), 'utf8')) as { log_history: LogEntry[]; global_step: number };
    assert.equal(state.global_step, 3);
    assert.deepEqual(state.log_history, lines.slice(0, 2));
    const svg = readFileSync(join(tmp.dir, 'loss.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(svg.match(/<polyline /g)?.length, 2, 'a train and an eval loss line');
    assert.ok(readFileSync(join(tmp.dir, 'adapter_model.safetensors')).equals(readFileSync(join(tmp.dir, 'checkpoint-6', 'adapter_model.safetensors'))), 'final adapter = last checkpoint\'s');
    // Not a terminal: one plain line per entry, nothing per step.
    assert.deepEqual(output.map((l) => l.split('  ')[0]), ['step 2/6', 'step 3/6', 'step 4/6', 'step 6/6', 'step 6/6', 'step 6/6']);
    assert.ok(output.every((l) => l.endsWith('\n') && !l.includes('\r')));
    assert.match(output[0]!, /^step 2\/6  loss [\d.]+  grad_norm [\d.]+  learning_rate [\de.-]+  tokens_per_second \d+(\.\d+)?  epoch 0\.5\n$/);
  } finally {
    tmp.remove();
  }
});

test('on a terminal the progress line is rewritten each step with loss, lr, tokens/s and ETA', async () => {
  const tmp = makeTempDir();
  const output: string[] = [];
  try {
    const trainer = new Trainer({
      model: tinyLmModel(),
      trainData: tokenData(8, 16, 8),
      collate: collateTokens,
      args: { outputDir: tmp.dir, maxSteps: 4, perDeviceTrainBatchSize: 2, loggingSteps: 2, saveSteps: 0 },
      output: { write: (text: string) => output.push(text), isTTY: true, columns: 120 },
    });
    await trainer.train();
    const bars = output.filter((t) => t.startsWith('\r') && !t.endsWith('\n'));
    assert.equal(bars.length, 4);
    bars.forEach((b, i) => assert.match(b, new RegExp(`^\\r step ${i + 1}/4 \\| loss [\\d.]+ \\| lr [\\d.]+e-\\d+ \\| \\d+ tok/s \\| ETA \\d+:\\d\\d\\x1b\\[K$`.replace('\\r ', '\\r'))));
    output.forEach((t, i) => {
      if (i > 0 && t.endsWith('\n')) assert.equal(t.startsWith('\r\x1b[Kstep '), bars.includes(output[i - 1]!), 'a log line after a progress line clears it first');
    });
    assert.match(output.at(-1)!, /^step 4\/4  train_runtime .*\n$/, 'the summary ends the output on its own line');
  } finally {
    tmp.remove();
  }
});

test('computeLoss gets the gradientCheckpointing flag in training (not in evaluation) and must return a scalar', async () => {
  const base = mlpModel(2);
  const seen: string[] = [];
  const model: typeof base = {
    ...base,
    computeLoss: (batch, options) => {
      seen.push(`${base.module.training ? 'train' : 'eval'} ${options.gradientCheckpointing} ${options.numItemsInBatch}`);
      return base.computeLoss(batch, options);
    },
  };
  const tmp = makeTempDir();
  try {
    const args = { outputDir: tmp.dir, disableTqdm: true, maxSteps: 1, perDeviceTrainBatchSize: 4, saveSteps: 0, gradientCheckpointing: true };
    await new Trainer({ model, trainData: separableData(4, 1), evalData: separableData(2, 2), collate: collateFeatures, args }).train();
    assert.deepEqual(seen, ['train true undefined', 'eval false undefined']);
    const vector = { ...base, computeLoss: () => zeros([2]) };
    const trainer = new Trainer({ model: vector, trainData: separableData(4, 1), collate: collateFeatures, args });
    await assert.rejects(trainer.train(), (e: unknown) => e instanceof TrainerError && /computeLoss must return a scalar tensor, got shape \[2\]/.test((e as Error).message));
  } finally {
    tmp.remove();
  }
});

test('the Trainer checks its model, data and options when built', () => {
  const trainData = separableData(4, 1);
  const args = { disableTqdm: true };
  const rejects = (options: object, pattern: RegExp) => assert.throws(() => new Trainer({ model: mlpModel(), trainData, collate: collateFeatures, args, ...options }), pattern);
  rejects({ model: { computeLoss: () => zeros([1]) } }, /model must implement TrainableModel/);
  rejects({ trainData: [] }, /trainData must be a non-empty array/);
  rejects({ evalData: 'x' }, /evalData must be a non-empty array/);
  rejects({ collate: undefined }, /collate must be a function/);
  rejects({ args: { max_step: 3 } }, /option 'max_step' is unknown \(did you mean maxSteps\?\)/);
});

test('onOptimizerStep runs after the update and before the gradients are zeroed, with the steps completed before it', async () => {
  const base = mlpModel(3);
  const trainable = base.module.namedParameters().filter(([, p]) => p.requiresGrad);
  let before = paramValues(base.module);
  // Each step has one micro-batch, so computeLoss marks the start of a step.
  const model: typeof base = { ...base, computeLoss: (batch, options) => ((before = paramValues(base.module)), base.computeLoss(batch, options)) };
  const events: string[] = [];
  const tmp = makeTempDir();
  try {
    const callbacks = [
      {
        onOptimizerStep: (s: { globalStep: number }) => {
          const withGrad = trainable.filter(([, p]) => p.grad !== null && p.grad.toArray().some((g) => g !== 0)).length;
          const updated = trainable.filter(([n, p]) => p.toArray().some((v, i) => v !== before.get(n)![i])).length;
          events.push(`optimizer ${s.globalStep}: ${withGrad}/${trainable.length} with gradients, ${updated} updated`);
        },
        onStep: (s: { globalStep: number }) => void events.push(`step ${s.globalStep}: ${trainable.filter(([, p]) => p.grad !== null).length} with gradients`),
      },
    ];
    const args = { outputDir: tmp.dir, disableTqdm: true, maxSteps: 3, perDeviceTrainBatchSize: 4, saveSteps: 0, learningRate: 0.01 };
    await new Trainer({ model, trainData: separableData(12, 1), collate: collateFeatures, args, callbacks }).train();
    const n = trainable.length;
    assert.deepEqual(events, [0, 1, 2].flatMap((g) => [`optimizer ${g}: ${n}/${n} with gradients, ${n} updated`, `step ${g + 1}: 0 with gradients`]));
  } finally {
    tmp.remove();
  }
});

test('an onOptimizerStep callback that returns a promise stops training with a TrainerError', async () => {
  const tmp = makeTempDir();
  try {
    const args = { outputDir: tmp.dir, disableTqdm: true, maxSteps: 2, perDeviceTrainBatchSize: 4, saveSteps: 0 };
    const callbacks = [{ onOptimizerStep: async () => undefined }];
    const trainer = new Trainer({ model: mlpModel(), trainData: separableData(8, 1), collate: collateFeatures, args, callbacks });
    await assert.rejects(trainer.train(), (e: unknown) => e instanceof TrainerError && /onOptimizerStep callbacks must be synchronous/.test((e as Error).message));
    assert.equal(trainer.state.globalStep, 0);
  } finally {
    tmp.remove();
  }
});
