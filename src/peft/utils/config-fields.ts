// Declarative config fields: each has its snake_case JSON key, camelCase property, default, a checked
// parser (throwing ConfigError naming the key) and a dumper producing Python-typed JSON. Config classes
// and their nested sub-configs are read and written through these, accepting either key spelling.
import { ConfigError } from '../errors.js';
import { PyFloat, type PyJson } from './python-json.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ParseContext {
  /** The file being read, for error messages. */
  source?: string;
  /** Unknown keys are collected (true, reading a file) or rejected (false, constructing from options). */
  lenient: boolean;
  /** Unknown keys found so far, as dotted paths. */
  unknown: string[];
}

export interface FieldType<T> {
  /** What a valid value looks like, for error messages ("an integer", "a list of strings or null"). */
  readonly expected: string;
  /** The same for several values ("integers"), used by container types. */
  readonly plural?: string;
  parse(value: unknown, path: string, ctx: ParseContext): T;
  dump(value: T): PyJson;
}

export interface Field<T = unknown> {
  readonly key: string;
  readonly prop: string;
  readonly type: FieldType<T>;
  readonly default: () => T;
}

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function field<T>(key: string, type: FieldType<T>, defaultValue: () => T): Field<T> {
  return { key, prop: snakeToCamel(key), type, default: defaultValue };
}

export function describe(value: unknown): string {
  if (value instanceof Set) return describe([...value]);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function fail(path: string, ctx: ParseContext, detail: string): never {
  throw new ConfigError(path, detail, ctx.source);
}

function mismatch(type: { expected: string }, value: unknown, path: string, ctx: ParseContext): never {
  fail(path, ctx, `must be ${type.expected}, got ${describe(value)}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set) && !(value instanceof Map);
}

function simple<T>(expected: string, plural: string | undefined, test: (v: unknown) => boolean, dump: (v: T) => PyJson = (v) => v as PyJson): FieldType<T> {
  const type: FieldType<T> = {
    expected,
    plural,
    parse: (v, path, ctx) => (test(v) ? (v as T) : mismatch(type, v, path, ctx)),
    dump,
  };
  return type;
}

export const bool = simple<boolean>('true or false', 'booleans', (v) => typeof v === 'boolean');
export const str = simple<string>('a string', 'strings', (v) => typeof v === 'string');
export const int = simple<number>('an integer', 'integers', (v) => Number.isInteger(v));
export const positiveInt = simple<number>('a positive integer', 'positive integers', (v) => Number.isInteger(v) && (v as number) > 0);
/** A number Python holds as int when integral (written `16`) and as float otherwise (`16.5`). */
export const num = simple<number>('a number', 'numbers', (v) => typeof v === 'number' && Number.isFinite(v));
/** A number Python holds as float: always written with a fraction or exponent (`0.0`, `1e-05`). */
export const float = simple<number>('a number', 'numbers', (v) => typeof v === 'number' && Number.isFinite(v), (v) => new PyFloat(v));

function isJson(v: unknown): boolean {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJson);
  return isPlainObject(v) && Object.values(v).every(isJson);
}

/** Any JSON object, kept verbatim (keys are not renamed). */
export const jsonObject = simple<{ [key: string]: JsonValue }>('a JSON object', 'JSON objects', (v) => isPlainObject(v) && isJson(v));

export function literal<const T extends string>(...values: T[]): FieldType<T> {
  return simple<T>(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, undefined, (v) => values.includes(v as T));
}

export function nullable<T>(inner: FieldType<T>): FieldType<T | null> {
  const type: FieldType<T | null> = {
    expected: `${inner.expected} or null`,
    parse: (v, path, ctx) => {
      if (v === null) return null;
      try {
        return inner.parse(v, path, ctx);
      } catch (e) {
        // A mismatch of the value itself (not of something nested in it) is reported with "or null".
        if (e instanceof ConfigError && e.key === path && / must be /.test(e.message)) mismatch(type, v, path, ctx);
        throw e;
      }
    },
    dump: (v) => (v === null ? null : inner.dump(v)),
  };
  return type;
}

function plural(type: FieldType<unknown>): string {
  return type.plural ?? `items that are ${type.expected}`;
}

export function listOf<T>(inner: FieldType<T>): FieldType<T[]> {
  const type: FieldType<T[]> = {
    expected: `a list of ${plural(inner)}`,
    plural: `lists of ${plural(inner)}`,
    parse: (v, path, ctx) => {
      if (!Array.isArray(v)) mismatch(type, v, path, ctx);
      return v.map((x, i) => inner.parse(x, `${path}[${i}]`, ctx));
    },
    dump: (v) => v.map((x) => inner.dump(x)),
  };
  return type;
}

/** A list Python turns into a set: duplicates dropped (first occurrence kept); arrays and Sets accepted. */
export const stringSet: FieldType<Set<string>> = {
  expected: 'a list of strings',
  plural: 'lists of strings',
  parse: (v, path, ctx) => {
    const items = v instanceof Set ? [...v] : v;
    if (!Array.isArray(items)) mismatch(stringSet, v, path, ctx);
    return new Set(items.map((x, i) => str.parse(x, `${path}[${i}]`, ctx)));
  },
  dump: (v) => [...v],
};

export function recordOf<T>(inner: FieldType<T>): FieldType<Record<string, T>> {
  const type: FieldType<Record<string, T>> = {
    expected: `an object mapping names to ${plural(inner)}`,
    parse: (v, path, ctx) => {
      if (!isPlainObject(v)) mismatch(type, v, path, ctx);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, inner.parse(x, `${path}.${k}`, ctx)]));
    },
    dump: (v) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, inner.dump(x)])),
  };
  return type;
}

/** The first alternative that accepts the value; dumping picks the alternative by `is`. */
export function union<A, B>(a: FieldType<A>, b: FieldType<B>, isA: (v: A | B) => v is A): FieldType<A | B> {
  const type: FieldType<A | B> = {
    expected: `${a.expected} or ${b.expected}`,
    parse: (v, path, ctx) => {
      for (const alt of [a, b] as FieldType<A | B>[]) {
        try {
          return alt.parse(v, path, ctx);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
        }
      }
      return mismatch(type, v, path, ctx);
    },
    dump: (v) => (isA(v) ? a.dump(v) : b.dump(v as B)),
  };
  return type;
}

/**
 * Reads an object's fields by snake_case key or camelCase property. Missing fields take their
 * defaults unless `partial`; unknown keys go to ctx.unknown (lenient) or raise.
 */
export function readFields(input: Record<string, unknown>, fields: readonly Field[], path: string, ctx: ParseContext, partial = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seenAs: Record<string, string> = {};
  for (const [k, v] of Object.entries(input)) {
    const f = fields.find((x) => x.key === k || x.prop === k);
    const where = path === '' ? k : `${path}.${k}`;
    if (f === undefined) {
      if (!ctx.lenient) fail(where, ctx, 'is not a known option');
      ctx.unknown.push(where);
      continue;
    }
    if (seenAs[f.prop] !== undefined) fail(where, ctx, `is given twice (also as '${seenAs[f.prop]}')`);
    seenAs[f.prop] = k;
    if (v !== undefined) out[f.prop] = f.type.parse(v, where, ctx);
  }
  if (!partial) for (const f of fields) if (!(f.prop in out)) out[f.prop] = f.default();
  return out;
}

export function dumpFields(values: Record<string, unknown>, fields: readonly Field[]): { [key: string]: PyJson } {
  const out: { [key: string]: PyJson } = {};
  for (const f of fields) if (values[f.prop] !== undefined) out[f.key] = f.type.dump(values[f.prop]);
  return out;
}

/**
 * A nested dataclass-like object (EvaConfig, CordaConfig, …): every field present after parsing, written
 * out in full; `check` validates the parsed object as the dataclass's __post_init__ does.
 */
export function subConfig<T>(name: string, fields: readonly Field[], check: (v: T, path: string, ctx: ParseContext) => void = () => {}, partial = false): FieldType<T> {
  const type: FieldType<T> = {
    expected: `${name} object`,
    parse: (v, path, ctx) => {
      if (!isPlainObject(v)) mismatch(type, v, path, ctx);
      const parsed = readFields(v, fields, path, ctx, partial) as T;
      check(parsed, path, ctx);
      return parsed;
    },
    dump: (v) => dumpFields(v as Record<string, unknown>, fields),
  };
  return type;
}

/** Python-typed JSON → plain JSON (floats become numbers). */
export function plainJson(v: PyJson): JsonValue {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(plainJson);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainJson(x)]));
  return v;
}
