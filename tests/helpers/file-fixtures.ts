// Values of the format fixtures (tests/fixtures/formats/*.json, written by tools/fixtures/formats.py)
// and independent ways to build and compare tensors from them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromArray, Tensor } from '../../src/engine/index.js';
import type { FileDType, RawTensor } from '../../src/io/index.js';
import { fixturePath } from './paths.js';

export interface FixtureTensor {
  dtype: FileDType;
  shape: number[];
  /** Numbers; "nan"/"inf"/"-inf" for non-finite floats; decimal strings for I64. */
  data: (number | string)[];
  /** F16/BF16 only: the exact 16-bit patterns. */
  bits?: number[];
}

export type FixtureTensors = Record<string, FixtureTensor>;

export function formatsFixture<T>(name: string): T {
  return JSON.parse(readFileSync(fixturePath('formats', name), 'utf8')) as T;
}

export function formatsPath(...parts: string[]): string {
  return fixturePath('formats', ...parts);
}

const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity };

/** The fixture's values as numbers (I64 as bigints). */
export function fixtureValues(t: FixtureTensor): (number | bigint)[] {
  if (t.dtype === 'I64') return t.data.map((v) => BigInt(v));
  return t.data.map((v) => (typeof v === 'string' ? SPECIAL[v]! : v));
}

function typedArrayOf(dtype: FileDType, values: (number | bigint)[]): ArrayBufferView {
  switch (dtype) {
    case 'F64': return Float64Array.from(values as number[]);
    case 'F32': return Float32Array.from(values as number[]);
    case 'I64': return BigInt64Array.from(values as bigint[]);
    case 'I32': return Int32Array.from(values as number[]);
    case 'I16': return Int16Array.from(values as number[]);
    case 'I8': return Int8Array.from(values as number[]);
    case 'U8': case 'BOOL': return Uint8Array.from(values as number[]);
    default: throw new Error(`no typed array for ${dtype}`);
  }
}

/** Little-endian bytes of the fixture's values, built with JS typed arrays (F16/BF16 excluded). */
export function fixtureBytes(t: FixtureTensor): Uint8Array {
  const view = typedArrayOf(t.dtype, fixtureValues(t));
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function halfTensor(t: FixtureTensor, dtype: 'float16' | 'bfloat16'): Tensor {
  const out = Tensor.empty(t.shape, dtype);
  new Uint16Array(out.buffer, 0, out.size).set(t.bits!);
  return out;
}

/** An engine tensor for the dtypes the engine holds, a RawTensor for the others. */
export function fixtureTensor(t: FixtureTensor): Tensor | RawTensor {
  const values = fixtureValues(t) as number[];
  switch (t.dtype) {
    case 'F32': return fromArray(values, t.shape, 'float32');
    case 'F16': return halfTensor(t, 'float16');
    case 'BF16': return halfTensor(t, 'bfloat16');
    case 'I32': return fromArray(values, t.shape, 'int32');
    default: return { dtype: t.dtype, shape: [...t.shape], bytes: fixtureBytes(t) };
  }
}

/** Decodes raw bytes with JS typed arrays, independently of the library's decoder. */
export function rawValues(raw: RawTensor): (number | bigint)[] {
  const copy = raw.bytes.slice();
  const b = copy.buffer;
  switch (raw.dtype) {
    case 'F64': return [...new Float64Array(b)];
    case 'F32': return [...new Float32Array(b)];
    case 'I64': return [...new BigInt64Array(b)];
    case 'I32': return [...new Int32Array(b)];
    case 'I16': return [...new Int16Array(b)];
    case 'I8': return [...new Int8Array(b)];
    case 'U8': case 'BOOL': return [...copy];
    case 'F16': return [...new Uint16Array(b)].map(f16ToNumber);
    case 'BF16': return [...new Uint16Array(b)].map((h) => new Float32Array(new Uint32Array([h << 16]).buffer)[0]!);
  }
}

function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Asserts a RawTensor holds exactly the fixture's dtype, shape and values. */
export function assertRawMatches(raw: RawTensor, expected: FixtureTensor, label: string): void {
  assert.equal(raw.dtype, expected.dtype, `${label}: dtype`);
  assert.deepEqual(raw.shape, expected.shape, `${label}: shape`);
  assert.deepEqual(rawValues(raw), fixtureValues(expected), `${label}: values`);
}

/** Asserts an engine tensor holds the fixture's values as the engine reads them (F64 rounded to f32, BOOL as 0/1). */
export function assertTensorMatches(t: Tensor, expected: FixtureTensor, label: string): void {
  assert.deepEqual([...t.shape], expected.shape, `${label}: shape`);
  const values = fixtureValues(expected).map((v) => (typeof v === 'bigint' ? Number(v) : expected.dtype === 'F64' ? Math.fround(v) : v));
  assert.deepEqual([...t.toArray()], values, `${label}: values`);
}
