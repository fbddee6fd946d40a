// Character offsets of tokens, as transformers' fast tokenizers report them (offset_mapping), for a
// pipeline that only yields token strings. Each token's surface (its bytes in the text, as the model
// and pre-tokenizer spell them) is matched against the text's characters, each normalized on its own
// (Prepend excepted): whitespace the tokenizer dropped is skipped, a space the tokenizer inserted
// (a prepended '▁', add_prefix_space) belongs to the character it precedes, and a token covering part
// of a multi-byte character spans the whole character.
import * as core from '@huggingface/tokenizers';
import { TokenizerError } from './errors.js';

// The package's type declarations do not resolve its normalizer exports under NodeNext.
const { SequenceNormalizer } = core as unknown as { SequenceNormalizer: new (config: unknown) => { normalize(text: string): string } };

/** [start, end) in UTF-16 code units of the text; [0, 0] for special tokens added around it. */
export type Offset = [number, number];

type Json = Record<string, unknown>;

interface Char {
  start: number;
  end: number;
  raw: string;
  space: boolean;
  /** The character normalized on its own, as UTF-8 bytes. */
  units: Uint8Array;
}

const SPACE = 0x20;
const WHITESPACE = new Set([0x09, 0x0a, 0x0d, SPACE]);
const utf8 = new TextEncoder();

/** GPT-2's byte ↔ printable-character table used by ByteLevel pre-tokenizers. */
function byteLevelDecoder(): Map<string, number> {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  const table = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) table.set(String.fromCodePoint(printable(b) ? b : 256 + extra++), b);
  return table;
}

function containsType(config: unknown, type: string, listKey: string): boolean {
  if (config === null || typeof config !== 'object') return false;
  const c = config as Json;
  if (c.type === type) return true;
  return Array.isArray(c[listKey]) && (c[listKey] as unknown[]).some((x) => containsType(x, type, listKey));
}

/** What a Prepend normalizer puts before each section of text ('' for none). */
function prependedText(config: unknown): string {
  if (config === null || typeof config !== 'object') return '';
  const c = config as Json;
  if (c.type === 'Prepend' && typeof c.prepend === 'string') return c.prepend;
  return c.type === 'Sequence' && Array.isArray(c.normalizers) ? c.normalizers.map(prependedText).join('') : '';
}

/** The normalizer config without Prepend steps (which apply once per text, not per character). */
function withoutPrepend(config: unknown): unknown {
  if (config === null || typeof config !== 'object') return null;
  const c = config as Json;
  if (c.type === 'Prepend') return null;
  if (c.type === 'Sequence' && Array.isArray(c.normalizers)) {
    return { ...c, normalizers: c.normalizers.map(withoutPrepend).filter((x) => x !== null) };
  }
  return c;
}

export class OffsetAligner {
  private readonly byteLevel: Map<string, number> | null;
  private readonly normalize: (text: string) => string;
  private readonly subwordPrefix: string | null;
  private readonly wordSuffix: string | null;
  private readonly folded = new Map<string, Uint8Array>();
  /** How many bytes a Prepend normalizer adds before each section of text between added tokens. */
  private readonly prependUnits: number;

  constructor(
    tokenizerJson: Json,
    private readonly addedTokens: ReadonlySet<string>,
    private readonly unkToken: string | null,
    private readonly name: string,
  ) {
    this.byteLevel = containsType(tokenizerJson.pre_tokenizer, 'ByteLevel', 'pretokenizers') ? byteLevelDecoder() : null;
    this.prependUnits = this.bytes(prependedText(tokenizerJson.normalizer)).length;
    const norm = withoutPrepend(tokenizerJson.normalizer);
    const normalizer = norm === null ? null : new SequenceNormalizer({ type: 'Sequence', normalizers: [norm] });
    this.normalize = normalizer === null ? (t) => t : (t) => normalizer.normalize(t);
    const model = (tokenizerJson.model ?? {}) as Json;
    this.subwordPrefix = typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== '' ? model.continuing_subword_prefix : null;
    this.wordSuffix = typeof model.end_of_word_suffix === 'string' && model.end_of_word_suffix !== '' ? model.end_of_word_suffix : null;
  }

  /** Byte form of a string on either side of the match; '▁' is a space outside byte-level tokenizers. */
  private bytes(s: string): Uint8Array {
    return utf8.encode(this.byteLevel === null ? s.replaceAll('\u2581', ' ') : s);
  }

  private fold(raw: string): Uint8Array {
    let units = this.folded.get(raw);
    if (units === undefined) {
      units = this.bytes(this.normalize(raw));
      this.folded.set(raw, units);
    }
    return units;
  }

  /** The bytes a (non-added, known) token stands for in the text. */
  private surface(token: string): Uint8Array {
    if (this.byteLevel !== null) {
      const table = this.byteLevel;
      return Uint8Array.from([...token].map((c) => table.get(c) ?? -1).filter((b) => b >= 0));
    }
    const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
    if (byte) return Uint8Array.of(parseInt(byte[1]!, 16));
    let t = token;
    if (this.subwordPrefix !== null && t.startsWith(this.subwordPrefix) && t.length > this.subwordPrefix.length) t = t.slice(this.subwordPrefix.length);
    if (this.wordSuffix !== null && t.endsWith(this.wordSuffix) && t.length > this.wordSuffix.length) t = t.slice(0, -this.wordSuffix.length);
    return this.bytes(t);
  }

  private chars(text: string): Char[] {
    const out: Char[] = [];
    let start = 0;
    for (const raw of text) {
      out.push({ start, end: start + raw.length, raw, space: /^\s$/u.test(raw), units: this.fold(raw) });
      start += raw.length;
    }
    return out;
  }

  /** Whether an added token is written out at the cursor, after whitespace the tokenizer may have stripped. */
  private literalAt(chars: readonly Char[], ci: number, k: number, token: string, text: string): boolean {
    if (k !== 0) return false;
    for (; ci < chars.length; ci++) {
      if (text.startsWith(token, chars[ci]!.start)) return true;
      if (!chars[ci]!.space) return false;
    }
    return false;
  }

  /** Offsets of `tokens`, the tokens of `text` without special tokens added around it. */
  align(text: string, tokens: readonly string[]): Offset[] {
    const chars = this.chars(text);
    const fail = (i: number, at: number): never => {
      throw new TokenizerError(
        `${this.name}: cannot compute offsets: token ${i} (${JSON.stringify(tokens[i])}) does not match the text at character ${at} of ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}`,
      );
    };
    let ci = 0;
    let k = 0;
    const charStart = (i: number): number => (i < chars.length ? chars[i]!.start : text.length);
    const skipSpaces = (): void => {
      if (k !== 0) return;
      while (ci < chars.length && (chars[ci]!.space || chars[ci]!.units.length === 0)) ci++;
    };
    const offsets: Offset[] = [];
    // Units a Prepend normalizer put before the current section: they belong to its first character.
    let prepended = this.prependUnits;
    tokens.forEach((token, ti) => {
      if (this.addedTokens.has(token) && this.literalAt(chars, ci, k, token, text)) {
        while (!text.startsWith(token, chars[ci]!.start)) ci++;
        const start = chars[ci]!.start;
        while (ci < chars.length && chars[ci]!.start < start + token.length) ci++;
        offsets.push([start, start + token.length]);
        prepended = this.prependUnits;
        return;
      }
      if (token === this.unkToken) {
        skipSpaces();
        if (ci >= chars.length) fail(ti, ci);
        const first = ci;
        prepended = 0;
        const next = ti + 1 < tokens.length && !this.addedTokens.has(tokens[ti + 1]!) ? this.surface(tokens[ti + 1]!) : null;
        // An unknown word runs to whitespace, punctuation (which pre-tokenizers split off) or where the next token matches.
        const punct = (c: Char): boolean => /^[\p{P}\p{S}]$/u.test(c.raw);
        ci++;
        k = 0;
        if (!punct(chars[first]!)) {
          while (ci < chars.length && !chars[ci]!.space && !punct(chars[ci]!) && !(next !== null && next.length > 0 && chars[ci]!.units[0] === next[0])) ci++;
        }
        offsets.push([chars[first]!.start, chars[ci - 1]!.end]);
        return;
      }
      if (this.addedTokens.has(token)) fail(ti, ci);
      let first = -1;
      let last = -1;
      // A unit the tokenizer inserted (not in the text) belongs to the character it precedes.
      const inserted = (): void => {
        if (first < 0) first = Math.min(ci, chars.length);
        last = Math.max(last, Math.min(ci, chars.length - 1));
      };
      for (const unit of this.surface(token)) {
        if (prepended > 0) {
          prepended--;
          inserted();
          continue;
        }
        for (;;) {
          const c = chars[ci];
          if (c !== undefined && c.units.length === 0) {
            ci++;
            continue;
          }
          if (c !== undefined && c.units[k] === unit) {
            if (first < 0) first = ci;
            last = ci;
            if (++k === c.units.length) {
              ci++;
              k = 0;
            }
            break;
          }
          // Whitespace the tokenizer dropped: a whitespace character, or a space its normalizer put around one.
          if (c !== undefined && k === 0 && c.space) {
            ci++;
            continue;
          }
          if (c !== undefined && WHITESPACE.has(c.units[k]!)) {
            if (++k === c.units.length) {
              ci++;
              k = 0;
            }
            continue;
          }
          // A space the tokenizer inserted (add_prefix_space, Metaspace's prepend_scheme).
          if (unit === SPACE) {
            inserted();
            break;
          }
          fail(ti, ci);
        }
      }
      if (first < 0 || first >= chars.length) offsets.push([charStart(first < 0 ? ci : first), charStart(first < 0 ? ci : first)]);
      else offsets.push([chars[first]!.start, chars[Math.max(last, first)]!.end]);
    });
    return offsets;
  }
}
