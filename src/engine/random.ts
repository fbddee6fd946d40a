// Reproducible random streams. A Generator is a seed plus a counter; every fill consumes a block of
// counter values, so the same seed and call sequence give the same numbers on any thread count.
// Its state (seed, counter) is two numbers, which checkpoints save to resume exactly.

export interface GeneratorState {
  seed: number;
  counter: number;
}

export class Generator {
  private seedValue: number;
  private counter = 0;

  constructor(seed = 0) {
    this.seedValue = Generator.checkSeed(seed);
  }

  private static checkSeed(seed: number): number {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Generator: seed must be a non-negative safe integer, got ${seed}`);
    return seed;
  }

  manualSeed(seed: number): this {
    this.seedValue = Generator.checkSeed(seed);
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
    this.counter += count;
    return start;
  }

  getState(): GeneratorState {
    return { seed: this.seedValue, counter: this.counter };
  }

  setState(state: GeneratorState): this {
    this.seedValue = Generator.checkSeed(state.seed);
    this.counter = state.counter;
    return this;
  }
}

/** The default generator used when an op is given none. */
export const defaultGenerator = new Generator(0);

export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
