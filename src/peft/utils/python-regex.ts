// Python `re` patterns (as found in adapter_config.json: target_modules, exclude_modules, rank_pattern keys, …)
// translated to JavaScript RegExp with the same meaning, plus `re.fullmatch` / `re.match`.
//
// The pattern is re-emitted token by token for a `v`-flag RegExp, so Python's Unicode classes keep their
// meaning (`\d` = any decimal digit, `\w` = letters, digits and `_`, `.` = anything but `\n`, `$` = end or
// before a final `\n`). Python-only syntax is converted: `(?P<name>…)`, `(?P=name)`, `{,n}`, `(?#…)`, the
// inline flags `a i m s u x` (scoped `(?…:…)` ones too, except a scoped change of `i`). What JavaScript
// cannot express — atomic groups, possessive quantifiers, conditionals, `\N{…}`, a scoped `i` — is
// rejected with a PythonRegexError, as is anything Python itself rejects.
// One difference remains: a backreference to a group that took no part in the match fails in Python but
// matches the empty string in JavaScript.
import { PeftjsError } from '../../engine/errors.js';

export class PythonRegexError extends PeftjsError {
  override name = 'PythonRegexError';
  constructor(
    readonly pattern: string,
    detail: string,
  ) {
    super(`regular expression ${JSON.stringify(pattern)}: ${detail}`);
  }
}

interface Flags {
  ascii: boolean;
  dotAll: boolean;
  multiline: boolean;
  verbose: boolean;
}

const WORD = '\\p{L}\\p{N}_';
const ASCII_WORD = 'a-zA-Z0-9_';
// Every code point for which Python's str.isspace() is true.
const SPACE = '\\u{9}-\\u{d}\\u{1c}-\\u{20}\\u{85}\\u{a0}\\u{1680}\\u{2000}-\\u{200a}\\u{2028}\\u{2029}\\u{202f}\\u{205f}\\u{3000}';
const ASCII_SPACE = '\\u{9}-\\u{d}\\u{20}';
const SYNTAX_OUTSIDE = new Set('^$\\.*+?()[]{}|/');
const SYNTAX_IN_CLASS = new Set('^$\\.*+?()[]{}|/&-!#%,:;<=>@`~');
const VERBOSE_SPACE = new Set(' \t\n\r\v\f');
const OCT = /^[0-7]$/;
const DEC = /^[0-9]$/;
const HEX = /^[0-9a-fA-F]$/;
const SHORT_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

function literal(cp: number, inClass: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (cp < 0x20 || cp > 0x7e) return `\\u{${cp.toString(16)}}`;
  return (inClass ? SYNTAX_IN_CLASS : SYNTAX_OUTSIDE).has(ch) ? `\\${ch}` : ch;
}

/** A class item for a category escape (`\d`, `\W`, …), usable inside `[...]` in `v` mode. */
function categoryInClass(letter: string, ascii: boolean): string {
  const sets: Record<string, string> = { d: ascii ? '0-9' : '\\p{Nd}', w: ascii ? ASCII_WORD : WORD, s: ascii ? ASCII_SPACE : SPACE };
  const set = sets[letter.toLowerCase()]!;
  return letter === letter.toLowerCase() ? set : `[^${set}]`;
}

type Last = 'none' | 'anchor' | 'atom' | 'repeat';

class Translator {
  private pos = 0;
  private groups = 0;
  /** Numbers and names of the groups closed so far: Python refers back only to those. */
  private readonly closed = new Set<string>();
  private ignoreCase = false;

  constructor(private readonly p: string) {}

  private fail(detail: string, at = this.pos): never {
    throw new PythonRegexError(this.p, `${detail} at position ${at}`);
  }

  private peek(offset = 0): string | undefined {
    const cp = this.p.codePointAt(this.pos + offset);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private next(): string | undefined {
    const ch = this.peek();
    if (ch !== undefined) this.pos += ch.length;
    return ch;
  }

  private eat(s: string): boolean {
    if (!this.p.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }

  translate(): { source: string; flags: string } {
    const flags: Flags = { ascii: false, dotAll: false, multiline: false, verbose: false };
    const source = this.alternation(flags, true);
    if (this.pos < this.p.length) this.fail('unbalanced parenthesis');
    return { source, flags: this.ignoreCase ? 'vi' : 'v' };
  }

  private alternation(flags: Flags, top: boolean): string {
    const branches = [this.sequence(flags, top)];
    while (this.eat('|')) branches.push(this.sequence(flags, false));
    return branches.join('|');
  }

  private sequence(flags: Flags, first: boolean): string {
    const out: string[] = [];
    let last: Last = 'none';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined || ch === '|' || ch === ')') return out.join('');
      if (flags.verbose && this.skipVerbose()) continue;
      const start = this.pos;
      if ('*+?{'.includes(ch)) {
        const q = this.quantifier();
        if (q !== null) {
          if (last === 'none' || last === 'anchor') this.fail('nothing to repeat', start);
          if (last === 'repeat') this.fail('multiple repeat', start);
          out[out.length - 1] += q;
          last = 'repeat';
          continue;
        }
        this.next();
        out.push(literal(ch.codePointAt(0)!, false));
        last = 'atom';
        continue;
      }
      this.next();
      if (ch === '\\') {
        const [s, kind] = this.escape(flags);
        out.push(s);
        last = kind;
      } else if (ch === '[') {
        out.push(this.charClass(flags));
        last = 'atom';
      } else if (ch === '(') {
        const g = this.group(flags, first && out.length === 0);
        if (g === null) continue;
        out.push(g);
        last = 'atom';
      } else if (ch === '.') {
        // Not `[^]`: V8 mis-handles it under a quantifier with minimum 0 in v mode.
        out.push(flags.dotAll ? '[\\s\\S]' : '[^\\n]');
        last = 'atom';
      } else if (ch === '^') {
        out.push(flags.multiline ? '(?<![^\\n])' : '^');
        last = 'anchor';
      } else if (ch === '$') {
        out.push(flags.multiline ? '(?![^\\n])' : '(?=\\n?$)');
        last = 'anchor';
      } else {
        out.push(literal(ch.codePointAt(0)!, false));
        last = 'atom';
      }
    }
  }

  /** Skips whitespace and a `#` comment in verbose mode; true if anything was skipped. */
  private skipVerbose(): boolean {
    const ch = this.peek();
    if (ch !== undefined && VERBOSE_SPACE.has(ch)) {
      this.next();
      return true;
    }
    if (ch !== '#') return false;
    while (this.peek() !== undefined && this.next() !== '\n');
    return true;
  }

  /** A quantifier at the current position, or null when `{` is a literal (as Python reads `a{x`). */
  private quantifier(): string | null {
    const start = this.pos;
    const ch = this.next()!;
    let q: string;
    if (ch === '{') {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.p.slice(start));
      if (m === null || this.p[start + 1] === '}') {
        this.pos = start;
        return null;
      }
      const [, lo, comma, hi] = m;
      if (comma === undefined) q = `{${lo}}`;
      else q = `{${lo || '0'},${hi}}`;
      if (lo && hi && Number(hi) < Number(lo)) this.fail('min repeat greater than max repeat', start);
      this.pos = start + m[0].length;
    } else {
      q = ch;
    }
    if (this.eat('?')) return q + '?';
    if (this.peek() === '+') this.fail('possessive quantifiers are not supported');
    return q;
  }

  private hexEscape(letter: string, digits: number): number {
    const start = this.pos;
    let hex = '';
    while (hex.length < digits && this.peek() !== undefined && HEX.test(this.peek()!)) hex += this.next();
    if (hex.length !== digits) this.fail(`incomplete escape \\${letter}${hex}`, start - 2);
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff) this.fail(`bad escape \\${letter}${hex}`, start - 2);
    return cp;
  }

  /** Escapes shared by both contexts that denote one code point; null if `c` is not one of them. */
  private codePointEscape(c: string): number | null {
    if (c === 'x') return this.hexEscape('x', 2);
    if (c === 'u') return this.hexEscape('u', 4);
    if (c === 'U') return this.hexEscape('U', 8);
    if (c === 'N') this.fail('named character escapes (\\N{...}) are not supported');
    return null;
  }

  private escape(flags: Flags): [string, Last] {
    const at = this.pos - 1;
    const c = this.next();
    if (c === undefined) this.fail('bad escape (end of pattern)', at);
    const wordSet = flags.ascii ? ASCII_WORD : WORD;
    switch (c) {
      case 'A':
        return ['^', 'anchor'];
      case 'Z':
        return ['$', 'anchor'];
      case 'b':
        return [`(?:(?<=[${wordSet}])(?![${wordSet}])|(?<![${wordSet}])(?=[${wordSet}]))`, 'anchor'];
      case 'B':
        return [`(?:(?<=[${wordSet}])(?=[${wordSet}])|(?<![${wordSet}])(?![${wordSet}]))`, 'anchor'];
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
        return [`[${categoryInClass(c, flags.ascii)}]`, 'atom'];
    }
    if (SHORT_ESCAPES[c] !== undefined) return [literal(SHORT_ESCAPES[c]!, false), 'atom'];
    const cp = this.codePointEscape(c);
    if (cp !== null) return [literal(cp, false), 'atom'];
    if (c === '0') {
      let oct = '';
      while (oct.length < 2 && this.peek() !== undefined && OCT.test(this.peek()!)) oct += this.next();
      return [literal(parseInt('0' + oct, 8), false), 'atom'];
    }
    if (DEC.test(c)) {
      let digits = c;
      if (this.peek() !== undefined && DEC.test(this.peek()!)) {
        digits += this.next();
        if (OCT.test(digits[0]!) && OCT.test(digits[1]!) && this.peek() !== undefined && OCT.test(this.peek()!)) {
          const value = parseInt(digits + this.next(), 8);
          if (value > 0o377) this.fail('octal escape value outside of range 0-0o377', at);
          return [literal(value, false), 'atom'];
        }
      }
      if (Number(digits) > this.groups) this.fail(`invalid group reference ${digits}`, at + 1);
      if (!this.closed.has(String(Number(digits)))) this.fail('cannot refer to an open group', at);
      return [`(?:\\${digits})`, 'atom'];
    }
    if (/^[a-zA-Z]$/.test(c)) this.fail(`bad escape \\${c}`, at);
    return [literal(c.codePointAt(0)!, false), 'atom'];
  }

  /** One item of a character class; `code` is set when the item is a single code point (range bound). */
  private classItem(first: string, flags: Flags): { text: string; code: number | null } {
    if (first !== '\\') return { text: literal(first.codePointAt(0)!, true), code: first.codePointAt(0)! };
    const at = this.pos - 1;
    const c = this.next();
    if (c === undefined) this.fail('unterminated character set', at);
    if ('dDwWsS'.includes(c)) return { text: categoryInClass(c, flags.ascii), code: null };
    let cp: number | null = SHORT_ESCAPES[c] ?? this.codePointEscape(c);
    if (cp === null && OCT.test(c)) {
      let oct = c;
      while (oct.length < 3 && this.peek() !== undefined && OCT.test(this.peek()!)) oct += this.next();
      cp = parseInt(oct, 8);
      if (cp > 0o377) this.fail('octal escape value outside of range 0-0o377', at);
    }
    if (cp === null) {
      if (/^[a-zA-Z0-9]$/.test(c)) this.fail(`bad escape \\${c}`, at);
      cp = c.codePointAt(0)!;
    }
    return { text: literal(cp, true), code: cp };
  }

  private charClass(flags: Flags): string {
    const start = this.pos - 1;
    const negate = this.eat('^');
    const items: string[] = [];
    for (;;) {
      const ch = this.next();
      if (ch === undefined) this.fail('unterminated character set', start);
      if (ch === ']' && items.length > 0) break;
      const lo = this.classItem(ch, flags);
      if (this.peek() === '-' && this.p[this.pos + 1] !== undefined) {
        this.next();
        const thatCh = this.next()!;
        if (thatCh === ']') {
          items.push(lo.text, '\\-');
          break;
        }
        const hi = this.classItem(thatCh, flags);
        if (lo.code === null || hi.code === null || hi.code < lo.code) this.fail('bad character range', start);
        items.push(`${lo.text}-${hi.text}`);
      } else {
        items.push(lo.text);
      }
    }
    return `[${negate ? '^' : ''}${items.join('')}]`;
  }

  /** Parses inline flag letters after `(?`; returns [added, removed] and whether a `:` (scoped) follows. */
  private inlineFlags(): { add: string; del: string; scoped: boolean } {
    let add = '';
    let del = '';
    while (this.peek() !== undefined && 'aiLmsux'.includes(this.peek()!)) add += this.next();
    if (this.eat('-')) {
      while (this.peek() !== undefined && 'aiLmsux'.includes(this.peek()!)) del += this.next();
      if (del === '') this.fail('missing flag');
      if (/[aLu]/.test(del)) this.fail("bad inline flag: cannot turn off flags 'a', 'u' and 'L'");
    }
    if (add.includes('L')) this.fail("bad inline flag: cannot use 'locale' flag with a str pattern");
    if (add.includes('a') && add.includes('u')) this.fail("bad inline flag: flags 'a', 'u' and 'L' are incompatible");
    if (this.eat(':')) return { add, del, scoped: true };
    if (del !== '') this.fail('missing :');
    if (!this.eat(')')) this.fail('missing -, : or )');
    return { add, del, scoped: false };
  }

  /** The rest of a group after `(`; null for constructs that emit nothing (comments, global flags). */
  private group(flags: Flags, atStart: boolean): string | null {
    const start = this.pos - 1;
    const body = (sub: Flags): string => {
      const inner = this.alternation(sub, false);
      if (!this.eat(')')) this.fail('missing ), unterminated subpattern', start);
      return inner;
    };
    const capture = (name?: string): string => {
      const n = String(++this.groups);
      const inner = body(flags);
      this.closed.add(n);
      if (name !== undefined) this.closed.add(`<${name}>`);
      return name === undefined ? `(${inner})` : `(?<${name}>${inner})`;
    };
    if (!this.eat('?')) return capture();
    if (this.eat('P<')) {
      const end = this.p.indexOf('>', this.pos);
      if (end < 0) this.fail('missing >, unterminated name');
      const name = this.p.slice(this.pos, end);
      this.pos = end + 1;
      return capture(name);
    }
    if (this.eat('P=')) {
      const end = this.p.indexOf(')', this.pos);
      if (end < 0) this.fail('missing ), unterminated name');
      const name = this.p.slice(this.pos, end);
      if (!this.closed.has(`<${name}>`)) this.fail(`unknown group name '${name}' (or a reference to an open group)`);
      this.pos = end + 1;
      return `\\k<${name}>`;
    }
    if (this.eat(':')) return `(?:${body(flags)})`;
    if (this.eat('#')) {
      const end = this.p.indexOf(')', this.pos);
      if (end < 0) this.fail('missing ), unterminated comment', start);
      this.pos = end + 1;
      return null;
    }
    // Wrapped so that a quantifier may follow, as Python allows.
    for (const look of ['=', '!', '<=', '<!']) {
      if (this.eat(look)) return `(?:(?${look}${body(flags)}))`;
    }
    if (this.peek() === '(') this.fail('conditional groups (?(...)...) are not supported');
    if (this.peek() === '>') this.fail('atomic groups (?>...) are not supported');
    const ch = this.peek();
    if (ch === undefined || !('aiLmsux-'.includes(ch))) this.fail(`unknown extension ?${ch ?? ''}`, start);
    const { add, del, scoped } = this.inlineFlags();
    if (!scoped) {
      if (!atStart) this.fail('global flags not at the start of the expression', start);
      this.applyFlags(flags, add, '');
      if (add.includes('i')) this.ignoreCase = true;
      return null;
    }
    if ((add.includes('i') && !this.ignoreCase) || (del.includes('i') && this.ignoreCase)) {
      this.fail("a scoped change of the 'i' flag is not supported");
    }
    const sub = { ...flags };
    this.applyFlags(sub, add, del);
    return `(?:${body(sub)})`;
  }

  private applyFlags(flags: Flags, add: string, del: string): void {
    const set = (letter: string, key: keyof Flags): void => {
      if (add.includes(letter)) flags[key] = true;
      if (del.includes(letter)) flags[key] = false;
    };
    set('a', 'ascii');
    set('s', 'dotAll');
    set('m', 'multiline');
    set('x', 'verbose');
    if (add.includes('u')) flags.ascii = false;
  }
}

/** The JavaScript source and flags equivalent to a Python pattern; throws PythonRegexError. */
export function translatePythonRegex(pattern: string): { source: string; flags: string } {
  const t = new Translator(pattern).translate();
  try {
    new RegExp(t.source, t.flags);
  } catch (e) {
    throw new PythonRegexError(pattern, (e as Error).message);
  }
  return t;
}

const cache = new Map<string, RegExp>();

function compiled(pattern: string, full: boolean): RegExp {
  const key = (full ? 'f' : 'm') + pattern;
  let re = cache.get(key);
  if (re === undefined) {
    const { source, flags } = translatePythonRegex(pattern);
    re = new RegExp(full ? `^(?:${source})$` : `^(?:${source})`, flags);
    cache.set(key, re);
  }
  return re;
}

/** Python's `re.fullmatch(pattern, s)`. */
export function pyFullmatch(pattern: string, s: string): RegExpExecArray | null {
  return compiled(pattern, true).exec(s);
}

/** Python's `re.match(pattern, s)`: a match anchored at the start of `s`. */
export function pyMatch(pattern: string, s: string): RegExpExecArray | null {
  return compiled(pattern, false).exec(s);
}
