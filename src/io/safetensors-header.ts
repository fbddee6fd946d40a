// Parsing and validation of a safetensors header, with the rules of the reference (Rust)
// implementation: an 8-byte little-endian length N (at most 100 MB, within the file), N bytes of
// UTF-8 JSON mapping names (each once) to {dtype, shape, data_offsets} plus an optional
// `__metadata__` map of strings; sorted by offset, the tensors must tile the data section exactly,
// from 0 to its end, each spanning shape product × dtype size bytes.
import type { ByteSource } from './byte-source.js';
import { elementCount, FILE_DTYPE_BYTES, FILE_DTYPES, type FileDType, isFileDType, isShape } from './dtypes.js';
import { SafetensorsError } from './errors.js';

export const MAX_HEADER_BYTES = 100_000_000;
export const METADATA_KEY = '__metadata__';

export interface HeaderEntry {
  name: string;
  dtype: FileDType;
  shape: number[];
  /** Byte range within the data section (which starts right after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** File offset of the data section: 8 + header length. */
  dataStart: number;
  /** In file order (by offset). */
  entries: HeaderEntry[];
  metadata: Record<string, string> | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short JSON rendering of a header value for error messages. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${preview(value)}`;
}

function parseMetadata(file: string, value: unknown): Record<string, string> | undefined {
  if (value === null) return undefined;
  if (!isObject(value)) throw new SafetensorsError(file, METADATA_KEY, `must be an object of strings, got ${describe(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new SafetensorsError(file, METADATA_KEY, `entry '${k}' must be a string, got ${describe(v)}`);
  }
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

function parseEntry(file: string, name: string, value: unknown): HeaderEntry {
  const fail = (detail: string) => new SafetensorsError(file, name, detail);
  if (!isObject(value)) throw fail(`must be an object with dtype, shape and data_offsets, got ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (dtype === undefined) throw fail("has no 'dtype'");
  if (!isFileDType(dtype)) throw fail(`has unsupported dtype ${describe(dtype)} (expected one of ${FILE_DTYPES.join(', ')})`);
  if (shape === undefined) throw fail("has no 'shape'");
  if (!isShape(shape)) throw fail(`has shape ${preview(shape)}; expected a list of non-negative integers`);
  if (offsets === undefined) throw fail("has no 'data_offsets'");
  if (!isShape(offsets) || offsets.length !== 2) {
    throw fail(`has data_offsets ${preview(offsets)}; expected [begin, end] as non-negative integers`);
  }
  return { name, dtype, shape, begin: offsets[0]!, end: offsets[1]! };
}

/**
 * The first key that appears twice in the top-level object of `text` (already valid JSON), or
 * undefined. JSON.parse keeps only the last of duplicate keys, so a header naming a tensor twice
 * would otherwise read one tensor's bytes as another's dtype and shape.
 */
function duplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth !== 1) continue;
      let next = i + 1;
      while (/\s/.test(text[next] ?? '')) next++;
      if (text[next] !== ':') continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (seen.has(key)) return key;
      seen.add(key);
    }
  }
  return undefined;
}

/** Checks that the entries, sorted by offset, tile [0, dataBytes) exactly and match their shapes. */
function checkLayout(file: string, entries: HeaderEntry[], dataBytes: number): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected || e.end < e.begin) {
      const why = e.end < e.begin ? 'ends before it begins' : e.begin < expected ? `overlaps the previous tensor (which ends at ${expected})` : `leaves a gap after byte ${expected}`;
      throw new SafetensorsError(file, e.name, `has data_offsets [${e.begin}, ${e.end}] that ${why}`);
    }
    expected = e.end;
    const count = elementCount(e.shape);
    const bytes = count === undefined ? undefined : count * FILE_DTYPE_BYTES[e.dtype];
    if (bytes === undefined || bytes > Number.MAX_SAFE_INTEGER) {
      throw new SafetensorsError(file, e.name, `has shape [${e.shape.join(', ')}] whose byte size overflows`);
    }
    if (e.end - e.begin !== bytes) {
      throw new SafetensorsError(file, e.name, `spans ${e.end - e.begin} bytes but ${e.dtype} [${e.shape.join(', ')}] needs ${bytes}`);
    }
  }
  if (expected !== dataBytes) {
    throw new SafetensorsError(file, undefined, `tensors cover ${expected} bytes but the data section holds ${dataBytes}; expected them to cover it exactly`);
  }
}

/** Reads and validates the header of a safetensors source. Reads only the header bytes. */
export function readHeader(source: ByteSource): SafetensorsHeader {
  const file = source.name;
  if (source.size < 8) throw new SafetensorsError(file, undefined, `is ${source.size} bytes; expected at least the 8-byte header length`);
  const prefix = new Uint8Array(8);
  source.read(0, prefix);
  const length = new DataView(prefix.buffer).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, undefined, `declares a header of ${length} bytes; expected at most ${MAX_HEADER_BYTES}`);
  }
  const n = Number(length);
  if (8 + n > source.size) {
    throw new SafetensorsError(file, undefined, `declares a header of ${n} bytes but the file is only ${source.size} bytes`);
  }
  const raw = new Uint8Array(n);
  source.read(8, raw);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw new SafetensorsError(file, undefined, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(file, undefined, `header is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw new SafetensorsError(file, undefined, `header must be a JSON object, got ${describe(json)}`);
  const duplicate = duplicateTopLevelKey(text);
  if (duplicate !== undefined) throw new SafetensorsError(file, duplicate, 'appears more than once in the header; expected each name once');
  let metadata: Record<string, string> | undefined;
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) metadata = parseMetadata(file, value);
    else entries.push(parseEntry(file, name, value));
  }
  checkLayout(file, entries, source.size - 8 - n);
  return { dataStart: 8 + n, entries, metadata };
}
