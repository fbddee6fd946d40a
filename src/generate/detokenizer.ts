// Incremental detokenisation of one row: each new token is decoded together with the tokens since
// the last point where the text was complete, so the work per token stays small and text is only
// final once it does not end in an incomplete character (U+FFFD from a partial UTF-8 sequence or a
// partial byte-fallback piece). The text concatenates to the decode of all the tokens, except with
// decoders that rewrite text across tokens (clean_up_tokenization_spaces, never used for BPE).

/** What detokenisation needs of a tokenizer (Tokenizer satisfies it). */
export interface TokenDecoder {
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

const INCOMPLETE_END = /\uFFFD+$/;

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  /** Start of the window decoded with each new token, and the end of its settled part. */
  private prefixOffset = 0;
  private readOffset = 0;
  /** Decoded text of ids[0 : readOffset]. */
  private settled = '';
  /** Decoded text of ids[readOffset :] (may end in an incomplete character). */
  private tail = '';

  constructor(
    private readonly tokenizer: TokenDecoder,
    private readonly skipSpecialTokens: boolean,
  ) {}

  private decodeRange(start: number, end: number): string {
    return this.tokenizer.decode(this.ids.slice(start, end), { skipSpecialTokens: this.skipSpecialTokens });
  }

  push(id: number): void {
    this.ids.push(id);
    const before = this.decodeRange(this.prefixOffset, this.readOffset);
    this.tail = this.decodeRange(this.prefixOffset, this.ids.length).slice(before.length);
    if (!this.tail.endsWith('\uFFFD')) {
      this.settled += this.tail;
      this.tail = '';
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
    }
  }

  /** The text so far up to any incomplete character at its end: it only ever grows. */
  get text(): string {
    return this.settled + this.tail.replace(INCOMPLETE_END, '');
  }

  /** The decode of every token pushed at once, incomplete end included. */
  decodeAll(): string {
    return this.decodeRange(0, this.ids.length);
  }
}
