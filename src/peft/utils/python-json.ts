// JSON text as Python's `json.dumps(obj, indent=2, sort_keys=True)` writes it (ensure_ascii on), so that
// files we save are byte-identical to PEFT's: keys sorted by code point, non-ASCII escaped as \uXXXX,
// floats in Python's repr (`0.0`, `1e-05`).

/** A number that Python holds as a float: always written with a fraction or an exponent. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJson = null | boolean | number | string | PyFloat | PyJson[] | { [key: string]: PyJson };

/** Python's `repr(float)`: shortest round-trip digits, scientific below 1e-4 and from 1e16 on. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  // The value is 0.<digits> × 10^decpt.
  const decpt = Number(exp) + 1;
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${frac}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** A number as Python's json writes it: integers plainly, anything else as a float. */
function pythonNumber(x: number): string {
  return Number.isInteger(x) && !Object.is(x, -0) ? String(x) : pythonFloat(x);
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A JSON string literal with every character outside printable ASCII escaped, as `ensure_ascii=True` does. */
export function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    if (SHORT_ESCAPES[ch] !== undefined) out += SHORT_ESCAPES[ch];
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Orders strings by Unicode code point, as Python's `sorted` does (JS compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done ? (cb.done ? 0 : -1) : 1;
    const d = ca.value.codePointAt(0)! - cb.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** `json.dumps(value, indent=indent, sort_keys=True)`; no trailing newline. */
export function dumpsPython(value: PyJson, indent = 2): string {
  const write = (v: PyJson, depth: number): string => {
    if (v === null) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return pythonNumber(v);
    if (typeof v === 'string') return pythonString(v);
    if (v instanceof PyFloat) return pythonFloat(v.value);
    const pad = '\n' + ' '.repeat(indent * (depth + 1));
    const end = '\n' + ' '.repeat(indent * depth);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${v.map((x) => pad + write(x, depth + 1)).join(',')}${end}]`;
    }
    const keys = Object.keys(v).sort(compareCodePoints);
    if (keys.length === 0) return '{}';
    return `{${keys.map((k) => `${pad}${pythonString(k)}: ${write(v[k]!, depth + 1)}`).join(',')}${end}}`;
  };
  return write(value, 0);
}
