// Shared pieces of the dataset builders: output under data/, seeded selection, text clean-up.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { permutation } from '../../src/train/data/shuffle.js';

/** The repository root (this file runs from dist/tools/datasets/). */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const MAX_BYTES = 500 * 1024;

/** Writes data/<dataset>/<file> and checks that the dataset folder stays under 500 KB. */
export function writeData(dataset: string, file: string, content: string): void {
  const path = join(root, 'data', dataset, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  const size = statSync(path).size;
  if (size > MAX_BYTES) throw new Error(`${path} is ${size} bytes, over the ${MAX_BYTES} limit`);
  console.log(`${dataset}/${file}: ${size} bytes`);
}

export function jsonl(records: readonly Record<string, unknown>[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** `n` items picked by a seeded permutation, in their original order. */
export function pick<T>(items: readonly T[], n: number, seed: number): T[] {
  if (items.length < n) throw new Error(`only ${items.length} candidates for ${n} picks`);
  const chosen = [...permutation(items.length, seed).subarray(0, n)].sort((a, b) => a - b);
  return chosen.map((i) => items[i]!);
}

/** Collapses runs of whitespace to one space and trims. */
export function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Printable ASCII only (plus newlines). */
export function isPlainAscii(text: string): boolean {
  return /^[\x20-\x7e\n]*$/.test(text);
}
