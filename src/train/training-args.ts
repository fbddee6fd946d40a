// The trainer's options: a camelCase subset of transformers' TrainingArguments with its defaults.
// Config files may use transformers' snake_case names (`learning_rate`); unknown options, an option
// given in both spellings, and values of the wrong type or range raise a TrainingArgumentsError
// naming the option.
import { nearestNames } from '../peft/utils/nearest-names.js';
import { TrainingArgumentsError } from './errors.js';
import { LR_SCHEDULER_TYPES, type LrSchedulerType } from './schedules.js';

export interface TrainingArguments {
  /** Checkpoints, the final adapter, metrics.jsonl and loss.svg go here (default 'trainer_output'). */
  outputDir: string;
  /** Peak learning rate of AdamW (default 5e-5). */
  learningRate: number;
  /** Epochs to train when maxSteps is not positive; may be fractional (default 3). */
  numTrainEpochs: number;
  /** Optimizer steps to train; overrides numTrainEpochs when positive (default -1). */
  maxSteps: number;
  perDeviceTrainBatchSize: number;
  perDeviceEvalBatchSize: number;
  /** Micro-batches per optimizer step (default 1). */
  gradientAccumulationSteps: number;
  /** AdamW weight decay of the decayed group (default 0). */
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  /** Clip the global gradient norm to this (0 disables; default 1). */
  maxGradNorm: number;
  lrSchedulerType: LrSchedulerType;
  /** Warmup steps: a count when >= 1, a ratio of the total steps when in [0, 1) (transformers 5). */
  warmupSteps: number;
  /** Warmup as a ratio of the total steps (transformers 4's warmup_ratio); exclusive with warmupSteps. */
  warmupRatio: number;
  /** Log every this many steps (an integer, or a ratio of the total steps when in (0, 1); default 500). */
  loggingSteps: number;
  /** Also log after the first step (default false). */
  loggingFirstStep: boolean;
  /** Evaluate every this many steps when evalData is given (default: loggingSteps). */
  evalSteps: number | null;
  /** Save a checkpoint every this many steps (0: only at the end; default 500). */
  saveSteps: number;
  /** Keep at most this many checkpoints (the latest and the best are always kept; default: all). */
  saveTotalLimit: number | null;
  /** Seeds the default generator when the Trainer is built (default 42). */
  seed: number;
  /** Seed of the training data order (default: seed). */
  dataSeed: number | null;
  /** Passed to the model's computeLoss (recompute activations in backward). */
  gradientCheckpointing: boolean;
  /** A checkpoint folder to continue from, or true for the latest checkpoint in outputDir. */
  resumeFromCheckpoint: string | boolean | null;
  /** No progress line or log lines on stdout (default false). */
  disableTqdm: boolean;
}

export type TrainingArgumentsInput = Partial<TrainingArguments> | Readonly<Record<string, unknown>>;

type Check = (option: string, value: unknown) => unknown;

function fail(option: string, expected: string, value: unknown): never {
  throw new TrainingArgumentsError(option, `must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
}

const finiteAtLeast = (min: number, strict = false): Check => (option, v) =>
  typeof v === 'number' && Number.isFinite(v) && (strict ? v > min : v >= min) ? v : fail(option, `a finite number ${strict ? '>' : '>='} ${min}`, v);
const integerAtLeast = (min: number): Check => (option, v) => (Number.isSafeInteger(v) && (v as number) >= min ? v : fail(option, `an integer >= ${min}`, v));
const beta: Check = (option, v) => (typeof v === 'number' && v >= 0 && v < 1 ? v : fail(option, 'a number in [0, 1)', v));
const bool: Check = (option, v) => (typeof v === 'boolean' ? v : fail(option, 'true or false', v));
const nullable = (check: Check): Check => (option, v) => (v === null ? null : check(option, v));
/** transformers' step intervals: an integer count, or a ratio of the total steps in (0, 1). */
const interval = (allowZero: boolean): Check => (option, v) =>
  typeof v === 'number' && ((Number.isSafeInteger(v) && v >= (allowZero ? 0 : 1)) || (v > 0 && v < 1))
    ? v
    : fail(option, `${allowZero ? 'a non-negative' : 'a positive'} integer or a ratio in (0, 1)`, v);

const SPEC: { [K in keyof TrainingArguments]: [TrainingArguments[K], Check] } = {
  outputDir: ['trainer_output', (o, v) => (typeof v === 'string' && v !== '' ? v : fail(o, 'a non-empty path', v))],
  learningRate: [5e-5, finiteAtLeast(0)],
  numTrainEpochs: [3, finiteAtLeast(0, true)],
  maxSteps: [-1, (o, v) => (Number.isSafeInteger(v) ? v : fail(o, 'an integer (<= 0: train numTrainEpochs)', v))],
  perDeviceTrainBatchSize: [8, integerAtLeast(1)],
  perDeviceEvalBatchSize: [8, integerAtLeast(1)],
  gradientAccumulationSteps: [1, integerAtLeast(1)],
  weightDecay: [0, finiteAtLeast(0)],
  adamBeta1: [0.9, beta],
  adamBeta2: [0.999, beta],
  adamEpsilon: [1e-8, finiteAtLeast(0)],
  maxGradNorm: [1, finiteAtLeast(0)],
  lrSchedulerType: ['linear', (o, v) => ((LR_SCHEDULER_TYPES as readonly unknown[]).includes(v) ? v : fail(o, `one of ${LR_SCHEDULER_TYPES.join(', ')}`, v))],
  warmupSteps: [0, finiteAtLeast(0)],
  warmupRatio: [0, (o, v) => (typeof v === 'number' && v >= 0 && v <= 1 ? v : fail(o, 'a number in [0, 1]', v))],
  loggingSteps: [500, interval(false)],
  loggingFirstStep: [false, bool],
  evalSteps: [null, nullable(interval(false))],
  saveSteps: [500, interval(true)],
  saveTotalLimit: [null, nullable(integerAtLeast(1))],
  seed: [42, integerAtLeast(0)],
  dataSeed: [null, nullable(integerAtLeast(0))],
  gradientCheckpointing: [false, bool],
  resumeFromCheckpoint: [null, (o, v) => (v === null || typeof v === 'boolean' || (typeof v === 'string' && v !== '') ? v : fail(o, 'a checkpoint path, true or false', v))],
  disableTqdm: [false, bool],
};

const OPTIONS = Object.keys(SPEC) as (keyof TrainingArguments)[];

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Full arguments from camelCase or snake_case options, defaults filled in. */
export function resolveTrainingArguments(input: TrainingArgumentsInput = {}): TrainingArguments {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TrainingArgumentsError('args', `must be an object of options, got ${Array.isArray(input) ? 'an array' : String(input)}`);
  }
  const given = new Map<string, [string, unknown]>();
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const name = camelCase(key);
    if (!(OPTIONS as string[]).includes(name)) {
      const near = nearestNames(name, OPTIONS);
      throw new TrainingArgumentsError(key, `is unknown${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}`);
    }
    const earlier = given.get(name);
    if (earlier !== undefined) throw new TrainingArgumentsError(key, `is given twice (also as '${earlier[0]}')`);
    given.set(name, [key, value]);
  }
  const args = {} as Record<string, unknown>;
  for (const name of OPTIONS) {
    const [fallback, check] = SPEC[name] as [unknown, Check];
    const entry = given.get(name);
    args[name] = entry === undefined ? fallback : check(entry[0], entry[1]);
  }
  const resolved = args as unknown as TrainingArguments;
  if (resolved.warmupSteps > 0 && resolved.warmupRatio > 0) {
    throw new TrainingArgumentsError('warmupRatio', 'cannot be combined with warmupSteps (give one of them)');
  }
  return resolved;
}

/** Warmup steps for a run of `numTrainingSteps`, as transformers computes them. */
export function warmupStepsFor(args: TrainingArguments, numTrainingSteps: number): number {
  if (args.warmupRatio > 0) return Math.ceil(numTrainingSteps * args.warmupRatio);
  return args.warmupSteps >= 1 ? Math.trunc(args.warmupSteps) : Math.ceil(numTrainingSteps * args.warmupSteps);
}

/** A logging/eval/save interval in steps: ratios (< 1) of the total steps round up. */
export function intervalSteps(value: number, maxSteps: number): number {
  return value > 0 && value < 1 ? Math.ceil(maxSteps * value) : value;
}
