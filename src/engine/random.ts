// Reproducible random streams. A Generator is a seed plus a counter; every fill consumes a block of
// counter values, so the same seed and call sequence give the same numbers on any thread count.
// Its state (seed, counter) is two numbers, which checkpoints save to resume exactly.
import { describeValue } from './dtype.js';
import { EngineError } from './errors.js';

export interface GeneratorState {
  seed: number;
  /** Counter values consumed so far: a non-negative safe integer. */
  counter: number;
}

/** Throws unless `v` is a non-negative safe integer (a seed or a counter, exact as a JS number). */
function checkCount(op: string, arg: string, v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new EngineError(op, arg, `must be a non-negative safe integer, got ${describeValue(v)}`);
  return v as number;
}

export class Generator {
  private seedValue: number;
  private counter = 0;

  constructor(seed = 0) {
    this.seedValue = checkCount('Generator', 'seed', seed);
  }

  manualSeed(seed: number): this {
    this.seedValue = checkCount('Generator.manualSeed', 'seed', seed);
    this.counter = 0;
    return this;
  }

  get seed(): number {
    return this.seedValue;
  }

  /** High and low 32-bit halves of the seed, as the native kernels take them. */
  seedWords(): [number, number] {
    return [Math.floor(this.seedValue / 2 ** 32), this.seedValue % 2 ** 32];
  }

  /** Reserves `count` counter values and returns the first. */
  take(count: number): number {
    const start = this.counter;
    if (!Number.isSafeInteger(start + count)) throw new EngineError('Generator.take', undefined, `counter ${start} + ${count} passes 2**53 - 1; reseed the generator`);
    this.counter = start + count;
    return start;
  }

  getState(): GeneratorState {
    return { seed: this.seedValue, counter: this.counter };
  }

  setState(state: GeneratorState): this {
    if (state === null || typeof state !== 'object') throw new EngineError('Generator.setState', 'state', `must be { seed, counter }, got ${describeValue(state)}`);
    const seed = checkCount('Generator.setState', 'state.seed', state.seed);
    this.counter = checkCount('Generator.setState', 'state.counter', state.counter);
    this.seedValue = seed;
    return this;
  }
}

/** The generator an op draws from: `generator` when given (checked), else defaultGenerator. */
export function generatorOption(op: string, generator: unknown, arg = 'generator'): Generator {
  if (generator === undefined || generator === null) return defaultGenerator;
  if (!(generator instanceof Generator)) throw new EngineError(op, arg, `must be a Generator, got ${describeValue(generator)}`);
  return generator;
}

/** The default generator used when an op is given none. */
export const defaultGenerator = new Generator(0);

export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
