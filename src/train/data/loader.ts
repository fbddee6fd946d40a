// Batches over a dataset in a reproducible order: each epoch is a seeded permutation (or the dataset
// order without shuffling). The state — epoch and position within it — is two numbers that a
// checkpoint saves; a loader over the same data and options given that state yields the same
// batches from there on.
import { checkSeed, permutation } from './shuffle.js';

export interface LoaderState {
  epoch: number;
  /** How many examples of this epoch's order have been batched. */
  index: number;
}

export interface LoaderOptions<E, B> {
  batchSize: number;
  collate: (examples: E[]) => B;
  /** Default true. */
  shuffle?: boolean;
  /** Default 0. */
  seed?: number;
  /** Skip an epoch's last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
}

export interface LoadedBatch<B> {
  batch: B;
  epoch: number;
  /** The batch's index within its epoch. */
  step: number;
}

export class DataLoader<E, B> {
  private readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly dropLast: boolean;
  private epochNo = 0;
  private index = 0;
  private order: Uint32Array | null = null;

  constructor(
    private readonly examples: readonly E[],
    private readonly opts: LoaderOptions<E, B>,
  ) {
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) throw new TypeError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.batchSize = opts.batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    checkSeed(this.seed, 'DataLoader');
    this.dropLast = opts.dropLast ?? false;
    if (this.batchesPerEpoch === 0) {
      throw new TypeError(`DataLoader: ${examples.length} examples make no batch of ${this.batchSize}${this.dropLast ? ' with dropLast' : ''}`);
    }
  }

  get batchesPerEpoch(): number {
    const n = this.examples.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  get state(): LoaderState {
    return { epoch: this.epochNo, index: this.index };
  }

  /** Continues from a saved state. */
  loadState(state: LoaderState): void {
    const { epoch, index } = state;
    if (!Number.isSafeInteger(epoch) || epoch < 0 || !Number.isSafeInteger(index) || index < 0 || index > this.examples.length || index % this.batchSize !== 0) {
      throw new TypeError(`DataLoader.loadState: expected {epoch, index} with a non-negative epoch and an index that is a multiple of ${this.batchSize} up to ${this.examples.length}, got ${JSON.stringify(state)}`);
    }
    this.epochNo = epoch;
    this.index = index;
    this.order = null;
    this.rollOver();
  }

  /** The order of examples in an epoch. */
  epochOrder(epoch: number): Uint32Array {
    return this.shuffle ? permutation(this.examples.length, this.seed, epoch) : Uint32Array.from(this.examples.keys());
  }

  private rollOver(): void {
    const left = this.examples.length - this.index;
    if (left === 0 || (this.dropLast && left < this.batchSize)) {
      this.epochNo++;
      this.index = 0;
      this.order = null;
    }
  }

  /** The next batch; after an epoch's last batch the next epoch begins. */
  next(): LoadedBatch<B> {
    this.order ??= this.epochOrder(this.epochNo);
    const picked = [...this.order.subarray(this.index, this.index + this.batchSize)].map((i) => this.examples[i]!);
    const loaded = { batch: this.opts.collate(picked), epoch: this.epochNo, step: this.index / this.batchSize };
    this.index += picked.length;
    this.rollOver();
    return loaded;
  }

  /** The batches left in the current epoch. */
  *epoch(): Generator<LoadedBatch<B>> {
    const current = this.epochNo;
    while (this.epochNo === current) yield this.next();
  }
}
