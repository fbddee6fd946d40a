// The training-data fixtures (tests/fixtures/data/alignment.json, written by
// tools/fixtures/data_alignment.py from transformers) and the fixture tokenizers they were made with.
import { readFileSync } from 'node:fs';
import { loadTokenizer, type Tokenizer } from '../../src/tokenizers/index.js';
import { fixturePath } from './paths.js';

export type Alignment = Record<string, Record<string, unknown>[]>;

export const alignment = JSON.parse(readFileSync(fixturePath('data', 'alignment.json'), 'utf8')) as Alignment;

const loaded = new Map<string, Promise<Tokenizer>>();

export function fixtureTokenizer(name: string): Promise<Tokenizer> {
  let tok = loaded.get(name);
  if (tok === undefined) {
    tok = loadTokenizer(fixturePath('tokenizers', name));
    loaded.set(name, tok);
  }
  return tok;
}

/** UTF-16 offsets of `text` as Python string indices (code points). */
export function toCodePoints(text: string, offsets: readonly [number, number][]): [number, number][] {
  const cp = new Array<number>(text.length + 1);
  let n = 0;
  for (let i = 0; i <= text.length; i++) {
    cp[i] = n;
    if (i < text.length && !(text.charCodeAt(i) >= 0xdc00 && text.charCodeAt(i) <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff)) n++;
  }
  return offsets.map(([s, e]) => [cp[s]!, cp[e]!]);
}
