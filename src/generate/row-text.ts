// The generated text of one row during decoding: incremental detokenisation, stop-string detection
// and the part of the text that is final and can be streamed.
import { IncrementalDetokenizer, type TokenDecoder } from './detokenizer.js';
import type { StopStrings } from './stop-strings.js';

export class RowText {
  private readonly detokenizer: IncrementalDetokenizer;
  /** Characters already searched for stop strings, and already handed out by delta(). */
  private searched = 0;
  private emitted = 0;
  /** Where the first stop string starts in the text, once one appeared; else -1. */
  private stopAt = -1;
  private final: string | null = null;

  constructor(
    tokenizer: TokenDecoder,
    skipSpecialTokens: boolean,
    private readonly stops: StopStrings,
    private readonly trimStop: boolean,
  ) {
    this.detokenizer = new IncrementalDetokenizer(tokenizer, skipSpecialTokens);
  }

  /** Adds a generated token; true when the text now contains a stop string (the first time). */
  push(id: number): boolean {
    this.detokenizer.push(id);
    if (this.stops.isEmpty || this.stopAt >= 0) return false;
    const text = this.detokenizer.text;
    this.stopAt = this.stops.find(text, this.searched);
    this.searched = text.length;
    return this.stopAt >= 0;
  }

  /**
   * Text that became final since the last call: never an incomplete character and, when stop
   * strings are trimmed, never an end that could still grow into one.
   */
  delta(): string {
    const text = this.detokenizer.text;
    let end = text.length;
    if (this.trimStop) end = this.stopAt >= 0 ? this.stopAt : text.length - this.stops.partialMatch(text);
    if (end <= this.emitted) return '';
    const out = text.slice(this.emitted, end);
    this.emitted = end;
    return out;
  }

  /** The rest of the final text, once the row is done. */
  flush(): string {
    const final = this.finalText;
    const out = final.slice(this.emitted);
    this.emitted = final.length;
    return out;
  }

  /** The row's text: the decode of its generated tokens, cut where a stop string starts when trimming. */
  get finalText(): string {
    if (this.final === null) {
      const text = this.detokenizer.decodeAll();
      const stop = this.trimStop ? this.stops.find(text) : -1;
      this.final = stop >= 0 ? text.slice(0, stop) : text;
    }
    return this.final;
  }
}
