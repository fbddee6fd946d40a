// The token ids of every row so far, as transformers' input_ids during generation: the prompt as
// given (left padding included), then one token per row per step. Rows live in one Int32Array with
// a fixed capacity per row, so appending never reallocates.
import { GenerationError } from './errors.js';

export class TokenHistory {
  private readonly ids: Int32Array;
  private len = 0;

  constructor(
    readonly batchSize: number,
    readonly capacity: number,
  ) {
    this.ids = new Int32Array(batchSize * capacity);
  }

  /** A history holding `rows` (all of one length), with room for `capacity` tokens per row. */
  static from(rows: readonly (readonly number[])[], capacity = rows[0]?.length ?? 0): TokenHistory {
    const h = new TokenHistory(rows.length, capacity);
    const length = rows[0]?.length ?? 0;
    if (length > capacity) throw new GenerationError(`TokenHistory: rows of ${length} tokens exceed the capacity of ${capacity}`);
    rows.forEach((row, b) => h.ids.set(row, b * capacity));
    h.len = length;
    return h;
  }

  /** Tokens per row so far. */
  get length(): number {
    return this.len;
  }

  /** Row b's tokens (a view, valid until the next append). */
  row(b: number): Int32Array {
    const start = b * this.capacity;
    return this.ids.subarray(start, start + this.len);
  }

  /** Appends one token per row. */
  append(tokens: Int32Array): void {
    if (this.len === this.capacity) throw new GenerationError(`TokenHistory: full (capacity ${this.capacity} tokens per row)`);
    for (let b = 0; b < this.batchSize; b++) this.ids[b * this.capacity + this.len] = tokens[b]!;
    this.len++;
  }

  /** The rows as arrays. */
  toRows(): number[][] {
    return Array.from({ length: this.batchSize }, (_, b) => Array.from(this.row(b)));
  }
}
