// Learning-rate schedules as transformers' get_scheduler builds them: torch's LambdaLR, which sets each
// param group's rate to its base rate times a multiplier of the number of scheduler steps taken.
// The multipliers follow transformers' lambdas (linear warmup from 0, then constant, linear decay to 0
// or a half cosine to 0), evaluated in double precision as Python does.
import type { AdamW } from './optimizer.js';
import { TrainerError } from './errors.js';

export const LR_SCHEDULER_TYPES = ['constant', 'constant_with_warmup', 'linear', 'cosine'] as const;
export type LrSchedulerType = (typeof LR_SCHEDULER_TYPES)[number];

export interface ScheduleOptions {
  /** Steps of linear warmup from 0 (not used by 'constant'). */
  numWarmupSteps?: number;
  /** Total optimizer steps ('linear' and 'cosine' decay to 0 there). */
  numTrainingSteps?: number;
  /** Cosine waves over the decay ('cosine' only; default 0.5, a half wave down to 0). */
  numCycles?: number;
}

function warmup(step: number, warmupSteps: number): number {
  return step / Math.max(1, warmupSteps);
}

function required(type: LrSchedulerType, name: keyof ScheduleOptions, value: number | undefined): number {
  if (value === undefined || !Number.isInteger(value) || value < 0) {
    throw new TrainerError(`schedule '${type}': ${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** The multiplier of the base learning rate after `step` scheduler steps. */
export function lrMultiplier(type: LrSchedulerType, options: ScheduleOptions = {}): (step: number) => number {
  switch (type) {
    case 'constant':
      return () => 1;
    case 'constant_with_warmup': {
      const w = required(type, 'numWarmupSteps', options.numWarmupSteps);
      return (step) => (step < w ? warmup(step, w) : 1);
    }
    case 'linear': {
      const w = required(type, 'numWarmupSteps', options.numWarmupSteps);
      const total = required(type, 'numTrainingSteps', options.numTrainingSteps);
      return (step) => (step < w ? warmup(step, w) : Math.max(0, (total - step) / Math.max(1, total - w)));
    }
    case 'cosine': {
      const w = required(type, 'numWarmupSteps', options.numWarmupSteps);
      const total = required(type, 'numTrainingSteps', options.numTrainingSteps);
      const cycles = options.numCycles ?? 0.5;
      return (step) => {
        if (step < w) return warmup(step, w);
        const progress = (step - w) / Math.max(1, total - w);
        return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
      };
    }
    default:
      throw new TrainerError(`unknown schedule '${String(type)}' (expected one of ${LR_SCHEDULER_TYPES.join(', ')})`);
  }
}

/** torch's LambdaLR.state_dict() fields that matter for resuming. */
export interface SchedulerState {
  last_epoch: number;
  base_lrs: number[];
  _last_lr: number[];
  _step_count: number;
}

/** Sets the optimizer's learning rates from a multiplier of the step count, as torch's LambdaLR. */
export class LrScheduler {
  /** The rates the multiplier scales: the optimizer's at construction, or those of a loaded state. */
  private bases: number[];
  private lastStep = 0;

  constructor(
    private readonly optimizer: AdamW,
    private readonly multiplier: (step: number) => number,
  ) {
    this.bases = optimizer.paramGroups.map((g) => g.lr);
    this.apply();
  }

  /** Scheduler steps taken so far (torch's last_epoch). */
  get step(): number {
    return this.lastStep;
  }

  /** Advances one step and sets the new rates. */
  advance(): void {
    this.lastStep++;
    this.apply();
  }

  lastLr(): number[] {
    return this.bases.map((base) => base * this.multiplier(this.lastStep));
  }

  private apply(): void {
    this.lastLr().forEach((lr, i) => this.optimizer.setLr(i, lr));
  }

  stateDict(): SchedulerState {
    return { last_epoch: this.lastStep, base_lrs: [...this.bases], _last_lr: this.lastLr(), _step_count: this.lastStep + 1 };
  }

  /** Continues from a saved step count and base rates (as torch, the saved base rates win). */
  loadStateDict(state: SchedulerState): void {
    const step = state?.last_epoch;
    if (!Number.isSafeInteger(step) || step < 0) throw new TrainerError(`LrScheduler.loadStateDict: last_epoch must be a non-negative integer, got ${String(step)}`);
    const bases = state.base_lrs;
    if (!Array.isArray(bases) || bases.length !== this.bases.length || !bases.every((b) => typeof b === 'number' && Number.isFinite(b) && b >= 0)) {
      throw new TrainerError(`LrScheduler.loadStateDict: base_lrs must be ${this.bases.length} non-negative numbers, got ${JSON.stringify(bases)}`);
    }
    this.bases = [...bases];
    this.lastStep = step;
    this.apply();
  }
}

/** transformers' get_scheduler for the supported types. */
export function createScheduler(type: LrSchedulerType, optimizer: AdamW, options: ScheduleOptions = {}): LrScheduler {
  return new LrScheduler(optimizer, lrMultiplier(type, options));
}
