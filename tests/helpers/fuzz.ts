// Deterministic random mutations of file bytes for the format fuzz tests.
import assert from 'node:assert/strict';
import { FormatError } from '../../src/io/index.js';
import { mulberry32 } from '../../src/train/data/shuffle.js';

/** A small seeded generator so every run sees the same cases. */
export const seededRandom = mulberry32;

export type Random = () => number;

export function randomInt(rand: Random, n: number): number {
  return Math.floor(rand() * n);
}

export function pick<T>(rand: Random, items: readonly T[]): T {
  return items[randomInt(rand, items.length)]!;
}

export function truncate(rand: Random, bytes: Uint8Array): Uint8Array {
  return bytes.slice(0, randomInt(rand, bytes.length));
}

/** Sets 1-8 random bytes within [from, to) to random values. */
export function flipBytes(rand: Random, bytes: Uint8Array, from = 0, to = bytes.length): Uint8Array {
  const out = bytes.slice();
  const flips = 1 + randomInt(rand, 8);
  for (let i = 0; i < flips && to > from; i++) out[from + randomInt(rand, to - from)] = randomInt(rand, 256);
  return out;
}

/** Inserts or deletes a run of 1-16 bytes at a random position. */
export function spliceBytes(rand: Random, bytes: Uint8Array): Uint8Array {
  const at = randomInt(rand, bytes.length + 1);
  const n = 1 + randomInt(rand, 16);
  if (rand() < 0.5) return Uint8Array.from([...bytes.subarray(0, at), ...Array.from({ length: n }, () => randomInt(rand, 256)), ...bytes.subarray(at)]);
  return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + n)]);
}

/** Asserts `err` is a typed format error that names `file`. */
export function assertNamesFile(err: unknown, file: string, label: string): void {
  if (!(err instanceof FormatError) || err.file !== file || !err.message.startsWith(`${file}: `)) {
    assert.fail(`${label}: expected a FormatError naming ${file}, got ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`);
  }
}
