// Shared pieces of the generation tests: the fixtures of tools/fixtures/generation_*.py, the hashed
// logits those scripts compute (same integer hash, exact in float32), and step functions over the
// fixture models (a bigram LM with a position bias, a scripted LM).
import { readFileSync } from 'node:fs';
import { fromArray, type Tensor } from '../../src/engine/index.js';
import type { StepFn, StepInput } from '../../src/generate/index.js';
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

/** The fixture's BigramLM: logits = bigram[last token] + position_bias[its position] / 4. */
export function bigramStep(vocab: number, maxPositions: number, seen: StepInput[] = []): StepFn {
  const bigram = hashedLogits(vocab, vocab);
  const positionBias = hashedLogits(maxPositions, vocab, 100000).map((v) => v / 4);
  return (input) => {
    seen.push(input);
    const { batchSize, inputLength: n } = input;
    const out = new Float32Array(batchSize * vocab);
    for (let b = 0; b < batchSize; b++) {
      const token = input.inputIds[b * n + n - 1]!;
      const position = input.positionIds[b * n + n - 1]!;
      for (let i = 0; i < vocab; i++) out[b * vocab + i] = bigram[token * vocab + i]! + positionBias[position * vocab + i]!;
    }
    return fromArray(out, [batchSize, vocab]);
  };
}

/** The fixture's ScriptedLM: all the probability on the next token of each row's script. */
export function scriptedStep(scripts: readonly (readonly number[])[], vocab: number): StepFn {
  return (input): Tensor => {
    const out = new Float32Array(input.batchSize * vocab);
    scripts.forEach((script, b) => (out[b * vocab + script[Math.min(input.step, script.length - 1)]!] = 10));
    return fromArray(out, [input.batchSize, vocab]);
  };
}
