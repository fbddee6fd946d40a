// The trainer's progress record, saved as trainer_state.json in transformers' layout (snake_case
// fields, sorted keys, two-space indent) so transformers' TrainerState.load_from_json reads it.
import { CheckpointError } from './errors.js';
import type { LogEntry, TrainerStateView } from './trainable.js';

export interface TrainerState extends TrainerStateView {
  globalStep: number;
  maxSteps: number;
  epoch: number;
  numTrainEpochs: number;
  logHistory: LogEntry[];
  bestMetric: number | null;
  bestGlobalStep: number | null;
  bestModelCheckpoint: string | null;
  numInputTokensSeen: number;
  trainBatchSize: number;
  loggingSteps: number;
  evalSteps: number;
  saveSteps: number;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function trainerStateJson(s: TrainerState): string {
  const json = {
    best_global_step: s.bestGlobalStep,
    best_metric: s.bestMetric,
    best_model_checkpoint: s.bestModelCheckpoint,
    epoch: s.epoch,
    eval_steps: s.evalSteps,
    global_step: s.globalStep,
    is_hyper_param_search: false,
    is_local_process_zero: true,
    is_world_process_zero: true,
    log_history: s.logHistory,
    logging_steps: s.loggingSteps,
    max_steps: s.maxSteps,
    num_input_tokens_seen: s.numInputTokensSeen,
    num_train_epochs: s.numTrainEpochs,
    save_steps: s.saveSteps,
    stateful_callbacks: {},
    total_flos: 0,
    train_batch_size: s.trainBatchSize,
    trial_name: null,
    trial_params: null,
  };
  return `${JSON.stringify(sortKeys(json), null, 2)}\n`;
}

export function parseTrainerState(file: string, json: Record<string, unknown>): TrainerState {
  const get = <T>(key: string, ok: (v: unknown) => boolean, expected: string): T => {
    const v = json[key];
    if (!ok(v)) throw new CheckpointError(file, key, `must be ${expected}, got ${JSON.stringify(v) ?? 'nothing'}`);
    return v as T;
  };
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const number = (v: unknown) => typeof v === 'number';
  const orNull = (ok: (v: unknown) => boolean) => (v: unknown) => v === null || v === undefined || ok(v);
  const history = get<unknown[]>('log_history', Array.isArray, 'a list');
  history.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new CheckpointError(file, `log_history[${i}]`, 'must be an object');
  });
  return {
    globalStep: get('global_step', count, 'a non-negative integer'),
    maxSteps: get('max_steps', count, 'a non-negative integer'),
    epoch: get('epoch', number, 'a number'),
    numTrainEpochs: get('num_train_epochs', number, 'a number'),
    logHistory: history as LogEntry[],
    bestMetric: get('best_metric', orNull(number), 'a number or null') ?? null,
    bestGlobalStep: get('best_global_step', orNull(count), 'a step or null') ?? null,
    bestModelCheckpoint: get('best_model_checkpoint', orNull((v) => typeof v === 'string'), 'a path or null') ?? null,
    numInputTokensSeen: get('num_input_tokens_seen', orNull(count), 'a non-negative integer') ?? 0,
    trainBatchSize: get('train_batch_size', orNull(count), 'a non-negative integer') ?? 0,
    loggingSteps: get('logging_steps', number, 'a number'),
    evalSteps: get('eval_steps', number, 'a number'),
    saveSteps: get('save_steps', number, 'a number'),
  };
}
