// Shared pieces of the generation tests: the fixtures of tools/fixtures/generation_*.py and the
// hashed logits those scripts compute (same integer hash, exact in float32).
import { readFileSync } from 'node:fs';
import { fixturePath } from '../helpers/paths.js';

export function generationFixture<T>(name: string): T {
  return JSON.parse(readFileSync(fixturePath('generation', name), 'utf8')) as T;
}

const SPECIAL: Record<string, number> = { '-inf': -Infinity, inf: Infinity, nan: NaN };

/** Fixture floats (non-finite values spelled as strings) as float32. */
export function float32s(values: readonly (number | string)[]): Float32Array {
  return Float32Array.from(values, (v) => (typeof v === 'string' ? SPECIAL[v]! : v));
}

/** tools/fixtures/_generation.py hashed_value: a value in [-8, 8) on a 1/4096 grid from k < 2**31. */
export function hashedValue(k: number): number {
  let h = Math.imul(k, 2654435761) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return (h >>> 16) / 4096 - 8;
}

/** hashed_logits: [rows, vocab] values hashedValue(offset + r * vocab + i). */
export function hashedLogits(rows: number, vocab: number, offset = 0): Float32Array {
  return Float32Array.from({ length: rows * vocab }, (_, k) => hashedValue(offset + k));
}
