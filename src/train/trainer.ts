// The training loop of transformers' Trainer over a TrainableModel: AdamW with decay groups, a
// learning-rate schedule, gradient accumulation, clipping, periodic logging, evaluation and
// checkpoints, and exact resumption (parameters, optimizer, schedule, random generators and data
// position). Each optimizer step runs inside one scope; the loop yields to the event loop between
// steps, which lets Node release native buffers' bookkeeping and lets SIGINT be handled.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { noGrad } from '../engine/autograd.js';
import { div } from '../engine/ops/binary.js';
import { manualSeed } from '../engine/random.js';
import { scope } from '../engine/scope.js';
import { formatShape } from '../engine/shape.js';
import { Tensor } from '../engine/tensor.js';
import { commitDirectory, commitFiles, settleInterruptedWrites } from '../io/atomic-folder.js';
import type { Module } from '../nn/module.js';
import { latestCheckpoint, readSnapshot, rotateCheckpoints, writeSnapshot, CHECKPOINT_FILES } from './checkpoint.js';
import { clipGradNorm } from './clip-grad.js';
import { DataLoader } from './data/loader.js';
import { createOptimizer } from './decay.js';
import { CheckpointError, TrainerError } from './errors.js';
import { MetricsFiles } from './metrics.js';
import type { AdamW } from './optimizer.js';
import { Progress, type ProgressStream } from './progress.js';
import { captureRng, restoreRng } from './rng.js';
import { createScheduler, type LrScheduler } from './schedules.js';
import type { TrainerState } from './state.js';
import type { LogEntry, TrainableModel, TrainerCallbacks } from './trainable.js';
import { intervalSteps, resolveTrainingArguments, warmupStepsFor, type TrainingArguments, type TrainingArgumentsInput } from './training-args.js';

export interface TrainerOptions<E, B> {
  model: TrainableModel<B>;
  /** Training examples; batches are drawn in a seeded order, perDeviceTrainBatchSize at a time. */
  trainData: readonly E[];
  /** Evaluated in order every evalSteps and at the end. */
  evalData?: readonly E[];
  /** Examples → one batch for the model (e.g. the data pipeline's collate); tensors it creates are disposed after the step. */
  collate: (examples: E[]) => B;
  args?: TrainingArgumentsInput;
  callbacks?: readonly TrainerCallbacks[];
  /** Where progress and log lines go (default process.stdout). */
  output?: ProgressStream;
}

export interface TrainOutput {
  globalStep: number;
  /** Mean training loss over the steps this call ran (NaN when it ran none). */
  trainingLoss: number;
  /** True when SIGINT stopped training after saving a checkpoint. */
  interrupted: boolean;
}

interface StepResult {
  /** Each micro-batch's scaled loss; they add up to the step's loss. */
  losses: number[];
  gradNorm: number;
  learningRate: number;
  tokens: number;
}

/** Input tokens of a batch with an `inputIds` tensor, as transformers counts them (padding included). */
function countTokens(batch: unknown): number {
  const ids = (batch as { inputIds?: unknown } | null)?.inputIds;
  return ids instanceof Tensor ? ids.size : 0;
}

function requireArray(name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) throw new TrainerError(`Trainer: ${name} must be a non-empty array of examples`);
}

export class Trainer<E, B> {
  readonly args: TrainingArguments;
  readonly model: TrainableModel<B>;
  readonly optimizer: AdamW;
  readonly scheduler: LrScheduler;
  readonly state: TrainerState;
  private readonly loader: DataLoader<E, B>;
  private readonly evalData: readonly E[] | undefined;
  private readonly collate: (examples: E[]) => B;
  private readonly callbacks: readonly TrainerCallbacks[];
  private readonly output: ProgressStream;
  private readonly metrics: MetricsFiles;
  private progress: Progress | null = null;

  constructor(options: TrainerOptions<E, B>) {
    const { model, trainData, evalData, collate } = options;
    this.args = resolveTrainingArguments(options.args ?? {});
    if (model === null || typeof model !== 'object' || typeof model.computeLoss !== 'function' || typeof model.saveAdapter !== 'function' || typeof model.module?.namedParameters !== 'function') {
      throw new TrainerError('Trainer: model must implement TrainableModel ({module, computeLoss(batch, options), saveAdapter(dir)})');
    }
    requireArray('trainData', trainData);
    if (evalData !== undefined) requireArray('evalData', evalData);
    if (typeof collate !== 'function') throw new TrainerError('Trainer: collate must be a function from examples to a batch');
    this.model = model;
    this.evalData = evalData;
    this.collate = collate;
    this.callbacks = options.callbacks ?? [];
    this.output = options.output ?? process.stdout;
    const args = this.args;
    // transformers seeds the global generator when the Trainer is built.
    manualSeed(args.seed);
    this.loader = new DataLoader(trainData, { batchSize: args.perDeviceTrainBatchSize, collate, shuffle: true, seed: args.dataSeed ?? args.seed });
    const stepsPerEpoch = Math.max(1, Math.ceil(this.loader.batchesPerEpoch / args.gradientAccumulationSteps));
    const maxSteps = args.maxSteps > 0 ? args.maxSteps : Math.ceil(args.numTrainEpochs * stepsPerEpoch);
    this.optimizer = createOptimizer(model.module, args);
    this.scheduler = createScheduler(args.lrSchedulerType, this.optimizer, { numWarmupSteps: warmupStepsFor(args, maxSteps), numTrainingSteps: maxSteps });
    const loggingSteps = intervalSteps(args.loggingSteps, maxSteps);
    this.state = {
      globalStep: 0,
      maxSteps,
      epoch: 0,
      numTrainEpochs: args.maxSteps > 0 ? Math.ceil(maxSteps / stepsPerEpoch) : Math.ceil(args.numTrainEpochs),
      logHistory: [],
      bestMetric: null,
      bestGlobalStep: null,
      bestModelCheckpoint: null,
      numInputTokensSeen: 0,
      trainBatchSize: args.perDeviceTrainBatchSize,
      loggingSteps,
      evalSteps: args.evalSteps === null ? loggingSteps : intervalSteps(args.evalSteps, maxSteps),
      saveSteps: intervalSteps(args.saveSteps, maxSteps),
    };
    this.metrics = new MetricsFiles(args.outputDir);
  }

  private get module(): Module {
    return this.model.module;
  }

  /** Trains to maxSteps (or until SIGINT), then saves the adapter into outputDir. */
  async train(): Promise<TrainOutput> {
    const { args, state } = this;
    settleInterruptedWrites(args.outputDir);
    const resumeFrom = this.resumeDirectory();
    if (resumeFrom !== null) this.loadCheckpoint(resumeFrom);
    this.metrics.rewrite(state.logHistory);
    this.progress = args.disableTqdm ? null : new Progress(this.output, state.maxSteps);
    const startStep = state.globalStep;
    const started = performance.now();
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) {
        // A second Ctrl-C: stop waiting for the checkpoint.
        process.off('SIGINT', onSigint);
        process.kill(process.pid, 'SIGINT');
      }
      interrupted = true;
    };
    process.on('SIGINT', onSigint);
    let pendingLoss = 0;
    let totalLoss = 0;
    let lastLogged = { step: state.globalStep, time: started, tokens: 0 };
    let tokens = 0;
    let savedAt = -1;
    try {
      while (state.globalStep < state.maxSteps && !interrupted) {
        const step = this.trainingStep();
        state.globalStep++;
        const position = this.loader.state;
        state.epoch = position.epoch + position.index / args.perDeviceTrainBatchSize / this.loader.batchesPerEpoch;
        state.numInputTokensSeen += step.tokens;
        tokens += step.tokens;
        const stepLoss = step.losses.reduce((a, b) => a + b, 0);
        totalLoss += stepLoss;
        // transformers' logging_nan_inf_filter: a non-finite micro-batch loss counts as the running mean.
        for (const l of step.losses) pendingLoss += Number.isFinite(l) ? l : pendingLoss / (state.globalStep - lastLogged.step);
        this.progress?.step({ step: state.globalStep, loss: stepLoss, learningRate: step.learningRate, tokens: step.tokens });
        for (const cb of this.callbacks) await cb.onStep?.(this.state);

        const g = state.globalStep;
        const last = g >= state.maxSteps;
        if ((args.loggingFirstStep && g === 1) || g % state.loggingSteps === 0) {
          const now = performance.now();
          const entry: LogEntry = { loss: pendingLoss / (g - lastLogged.step), grad_norm: step.gradNorm, learning_rate: step.learningRate };
          if (tokens > lastLogged.tokens) entry['tokens_per_second'] = ((tokens - lastLogged.tokens) * 1000) / (now - lastLogged.time);
          await this.log(entry);
          pendingLoss = 0;
          lastLogged = { step: g, time: now, tokens };
        }
        if (this.evalData !== undefined && (g % state.evalSteps === 0 || last)) await this.evaluateAndTrackBest();
        if ((state.saveSteps > 0 && g % state.saveSteps === 0) || last) {
          await this.saveCheckpoint();
          savedAt = g;
        }
        await nextTurn();
      }
      // A Ctrl-C during the last step does not stop a run that is complete.
      const stopped = interrupted && state.globalStep < state.maxSteps;
      if (stopped && savedAt !== state.globalStep && state.globalStep > startStep) {
        this.progress?.note(`interrupted: saving checkpoint-${state.globalStep}`);
        await this.saveCheckpoint();
      }
      const steps = state.globalStep - startStep;
      const trainingLoss = steps > 0 ? totalLoss / steps : Number.NaN;
      if (stopped) {
        // Ctrl-C would have ended the process with status 130; it still does, once the caller is done.
        process.exitCode = 130;
      } else {
        await this.log({ train_runtime: (performance.now() - started) / 1000, train_loss: trainingLoss });
        this.saveModel();
      }
      return { globalStep: state.globalStep, trainingLoss, interrupted: stopped };
    } finally {
      process.off('SIGINT', onSigint);
      this.progress?.close();
    }
  }

  /** One optimizer step over up to gradientAccumulationSteps micro-batches (fewer at an epoch's end). */
  private trainingStep(): StepResult {
    const { args, model } = this;
    this.module.train();
    const done = this.loader.state.index / args.perDeviceTrainBatchSize;
    const count = Math.min(args.gradientAccumulationSteps, this.loader.batchesPerEpoch - done);
    return scope(() => {
      const batches = Array.from({ length: count }, () => this.loader.next().batch);
      const numItemsInBatch = model.countLossItems === undefined ? undefined : batches.reduce((n, b) => n + model.countLossItems!(b), 0);
      const options = { numItemsInBatch, gradientCheckpointing: args.gradientCheckpointing };
      const losses = batches.map((batch) =>
        scope(() => {
          const loss = this.checkedLoss(batch, options);
          // With an item count the model already normalised by the whole step; else average the micro-batches.
          const scaled = numItemsInBatch === undefined ? div(loss, count) : loss;
          scaled.backward();
          return scaled.item();
        }),
      );
      const params = this.optimizer.paramGroups.flatMap((g) => g.params);
      const gradNorm = clipGradNorm(params, args.maxGradNorm > 0 ? args.maxGradNorm : Infinity);
      const learningRate = this.optimizer.getLr(0);
      this.optimizer.step();
      this.notifyOptimizerStep();
      this.scheduler.advance();
      this.optimizer.zeroGrad();
      return { losses, gradNorm, learningRate, tokens: batches.reduce((n, b) => n + countTokens(b), 0) };
    });
  }

  /** Runs the onOptimizerStep callbacks, which must not return a promise: the step's gradients live only until it ends. */
  private notifyOptimizerStep(): void {
    for (const cb of this.callbacks) {
      const result: unknown = cb.onOptimizerStep?.(this.state);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        // Its eventual rejection is this error's business, not an unhandled one.
        (result as PromiseLike<unknown>).then(undefined, () => undefined);
        throw new TrainerError('Trainer: onOptimizerStep callbacks must be synchronous: they run inside the optimizer step, before its gradients are zeroed; this one returned a Promise');
      }
    }
  }

  private checkedLoss(batch: B, options: { numItemsInBatch?: number; gradientCheckpointing: boolean }): Tensor {
    const loss = this.model.computeLoss(batch, options);
    if (!(loss instanceof Tensor) || loss.size !== 1) {
      throw new TrainerError(`Trainer: model.computeLoss must return a scalar tensor, got ${loss instanceof Tensor ? `shape ${formatShape(loss.shape)}` : typeof loss}`);
    }
    return loss;
  }

  /**
   * Mean loss over evalData (each batch's loss weighted by its number of examples, as transformers
   * averages), under noGrad in eval mode; also logged. Language models add eval_perplexity.
   */
  async evaluate(): Promise<LogEntry> {
    const data = this.evalData;
    if (data === undefined) throw new TrainerError('Trainer.evaluate: no evalData was given');
    const started = performance.now();
    const wasTraining = this.module.training;
    this.module.eval();
    let total = 0;
    const size = this.args.perDeviceEvalBatchSize;
    try {
      noGrad(() => {
        for (let i = 0; i < data.length; i += size) {
          const examples = data.slice(i, i + size);
          total += scope(() => this.checkedLoss(this.collate(examples), { gradientCheckpointing: false }).item()) * examples.length;
        }
      });
    } finally {
      this.module.train(wasTraining);
    }
    const runtime = (performance.now() - started) / 1000;
    const metrics: LogEntry = { eval_loss: total / data.length };
    if (this.model.languageModel === true) metrics['eval_perplexity'] = Math.exp(metrics['eval_loss']!);
    Object.assign(metrics, { eval_runtime: runtime, eval_samples_per_second: data.length / runtime, eval_steps_per_second: Math.ceil(data.length / size) / runtime });
    await this.log(metrics);
    for (const cb of this.callbacks) await cb.onEvaluate?.(metrics, this.state);
    return metrics;
  }

  /** Evaluates; the lowest eval_loss so far marks the best step (its checkpoint is kept). */
  private async evaluateAndTrackBest(): Promise<void> {
    const loss = (await this.evaluate())['eval_loss']!;
    if (this.state.bestMetric === null || loss < this.state.bestMetric) {
      this.state.bestMetric = loss;
      this.state.bestGlobalStep = this.state.globalStep;
    }
  }

  /** Records an entry (with epoch and step) in the history, metrics.jsonl, the progress display and onLog. */
  private async log(values: LogEntry): Promise<void> {
    const entry: LogEntry = { ...values, epoch: this.state.epoch, step: this.state.globalStep };
    this.state.logHistory.push(entry);
    this.metrics.append(this.state.logHistory);
    this.progress?.log(entry);
    for (const cb of this.callbacks) await cb.onLog?.(entry, this.state);
  }

  /** Writes checkpoint-<globalStep> atomically, then deletes checkpoints beyond saveTotalLimit. */
  private async saveCheckpoint(): Promise<void> {
    const { args, state } = this;
    const step = state.globalStep;
    if (state.bestGlobalStep !== null) {
      const best = join(args.outputDir, `checkpoint-${state.bestGlobalStep}`);
      if (state.bestGlobalStep === step || existsSync(best)) state.bestModelCheckpoint = best;
    }
    const optimizer = this.optimizer.stateDict();
    let dir: string;
    try {
      dir = commitDirectory(args.outputDir, `checkpoint-${step}`, (temp) => {
        this.model.saveAdapter(temp);
        writeSnapshot(temp, {
          params: this.trainableParameters(),
          optimizer,
          scheduler: this.scheduler.stateDict(),
          rng: captureRng(this.module),
          data: this.loader.state,
          state,
        });
      });
    } finally {
      for (const s of Object.values(optimizer.state)) {
        s.exp_avg.dispose();
        s.exp_avg_sq.dispose();
      }
    }
    rotateCheckpoints(args.outputDir, args.saveTotalLimit, state.bestModelCheckpoint === null ? [] : [state.bestModelCheckpoint]);
    for (const cb of this.callbacks) await cb.onSave?.(dir, this.state);
  }

  /** Saves the adapter (model.saveAdapter) into `dir` (default outputDir), each file replaced atomically. */
  saveModel(dir = this.args.outputDir): void {
    commitFiles(dir, (temp) => this.model.saveAdapter(temp));
  }

  private trainableParameters(): [string, Tensor][] {
    return this.module.namedParameters().filter(([, p]) => p.requiresGrad);
  }

  private resumeDirectory(): string | null {
    const { resumeFromCheckpoint: resume, outputDir } = this.args;
    if (resume === null || resume === false) return null;
    if (resume === true) {
      const latest = latestCheckpoint(outputDir);
      if (latest === null) throw new CheckpointError(outputDir, undefined, 'has no checkpoint-<step> folder to resume from (resumeFromCheckpoint: true)');
      return latest;
    }
    if (!existsSync(resume)) throw new CheckpointError(resume, undefined, 'does not exist (resumeFromCheckpoint)');
    return resume;
  }

  /** Restores everything a checkpoint holds; the run then continues exactly as if never stopped. */
  private loadCheckpoint(dir: string): void {
    const snap = readSnapshot(dir);
    try {
      const file = (name: keyof typeof CHECKPOINT_FILES) => join(dir, CHECKPOINT_FILES[name]);
      const own = this.trainableParameters();
      for (const [name, p] of own) {
        const saved = snap.params.get(name);
        if (saved === undefined) throw new CheckpointError(file('params'), name, 'is missing (the model has this trainable parameter)');
        if (formatShape(saved.shape) !== formatShape(p.shape) || saved.dtype !== p.dtype) {
          throw new CheckpointError(file('params'), name, `has ${saved.dtype} ${formatShape(saved.shape)}, the model's parameter is ${p.dtype} ${formatShape(p.shape)}`);
        }
      }
      const unexpected = [...snap.params.keys()].filter((k) => !own.some(([n]) => n === k));
      if (unexpected.length > 0) throw new CheckpointError(file('params'), unexpected[0], 'is not a trainable parameter of the model');
      for (const [name, p] of own) p.data().set(snap.params.get(name)!.data());
      const wrap = (name: keyof typeof CHECKPOINT_FILES, fn: () => void) => {
        try {
          fn();
        } catch (err) {
          throw err instanceof CheckpointError ? err : new CheckpointError(file(name), undefined, (err as Error).message, { cause: err });
        }
      };
      wrap('optimizer', () => this.optimizer.loadStateDict(snap.optimizer));
      wrap('scheduler', () => this.scheduler.loadStateDict(snap.scheduler));
      wrap('rng', () => restoreRng(this.module, snap.rng, file('rng')));
      wrap('data', () => this.loader.loadState(snap.data));
      const saved = snap.state;
      Object.assign(this.state, {
        globalStep: saved.globalStep,
        epoch: saved.epoch,
        logHistory: saved.logHistory,
        bestMetric: saved.bestMetric,
        bestGlobalStep: saved.bestGlobalStep,
        // As transformers, a best checkpoint that is gone is forgotten.
        bestModelCheckpoint: saved.bestModelCheckpoint !== null && existsSync(saved.bestModelCheckpoint) ? saved.bestModelCheckpoint : null,
        numInputTokensSeen: saved.numInputTokensSeen,
      });
    } finally {
      for (const t of snap.params.values()) t.dispose();
      for (const s of Object.values(snap.optimizer.state)) {
        s.exp_avg.dispose();
        s.exp_avg_sq.dispose();
      }
    }
  }
}
