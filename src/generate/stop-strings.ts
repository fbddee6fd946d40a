// Finding stop strings in text that grows at its end.
export class StopStrings {
  private readonly longest: number;

  constructor(readonly strings: readonly string[]) {
    this.longest = Math.max(0, ...strings.map((s) => s.length));
  }

  get isEmpty(): boolean {
    return this.strings.length === 0;
  }

  /**
   * Where the earliest stop string in `text` starts, or -1. Occurrences that end within the first
   * `searched` characters are skipped (they were looked for when the text was that long).
   */
  find(text: string, searched = 0): number {
    let first = -1;
    for (const s of this.strings) {
      const at = text.indexOf(s, Math.max(0, searched - s.length + 1));
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
  }

  /** Length of the longest end of `text` that begins some stop string (could still grow into one). */
  partialMatch(text: string): number {
    for (let n = Math.min(this.longest - 1, text.length); n > 0; n--) {
      const end = text.slice(text.length - n);
      if (this.strings.some((s) => s.startsWith(end))) return n;
    }
    return 0;
  }
}
