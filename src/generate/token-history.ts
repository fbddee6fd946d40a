// The token ids of every row so far, as transformers' input_ids during generation: the prompt as
// given (left padding included), then one token per row per step. Rows live in one Int32Array with
// room for some tokens per row, doubled (up to a fixed capacity) when full: a large maximum length
// costs nothing until the rows grow that long.
import { GenerationError } from './errors.js';

/** Room per row allocated at first, when the capacity allows. */
const INITIAL_ROOM = 64;

export class TokenHistory {
  private ids: Int32Array;
  /** Tokens each row has room for in `ids` (the stride between rows). */
  private room: number;
  private len = 0;

  constructor(
    readonly batchSize: number,
    readonly capacity: number,
  ) {
    this.room = Math.min(capacity, INITIAL_ROOM);
    this.ids = new Int32Array(batchSize * this.room);
  }

  /** A history holding `rows` (all of one length), with room for `capacity` tokens per row. */
  static from(rows: readonly (readonly number[])[], capacity = rows[0]?.length ?? 0): TokenHistory {
    const h = new TokenHistory(rows.length, capacity);
    const length = rows[0]?.length ?? 0;
    if (length > capacity) throw new GenerationError(`TokenHistory: rows of ${length} tokens exceed the capacity of ${capacity}`);
    h.reserve(length);
    rows.forEach((row, b) => h.ids.set(row, b * h.room));
    h.len = length;
    return h;
  }

  /** Tokens per row so far. */
  get length(): number {
    return this.len;
  }

  /** Row b's tokens (a view, valid until the next append). */
  row(b: number): Int32Array {
    const start = b * this.room;
    return this.ids.subarray(start, start + this.len);
  }

  /** Appends one token per row. */
  append(tokens: Int32Array): void {
    if (this.len === this.capacity) throw new GenerationError(`TokenHistory: full (capacity ${this.capacity} tokens per row)`);
    this.reserve(this.len + 1);
    for (let b = 0; b < this.batchSize; b++) this.ids[b * this.room + this.len] = tokens[b]!;
    this.len++;
  }

  /** The rows as arrays. */
  toRows(): number[][] {
    return Array.from({ length: this.batchSize }, (_, b) => Array.from(this.row(b)));
  }

  /** Makes room for `length` tokens per row (at most the capacity), doubling the room. */
  private reserve(length: number): void {
    if (length <= this.room) return;
    const room = Math.min(this.capacity, Math.max(length, 2 * this.room));
    const ids = new Int32Array(this.batchSize * room);
    for (let b = 0; b < this.batchSize; b++) ids.set(this.row(b), b * room);
    this.ids = ids;
    this.room = room;
  }
}
