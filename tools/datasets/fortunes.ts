// Fortunes from Debian's `fortunes` package (/usr/share/games/fortunes; `apt-get install fortunes`):
// short plain-ASCII fortunes of a few friendly categories, as plain text for causal LM training
// (one fortune per blank-line-separated block) and as instruction records
// {"prompt": "Tell me a fortune about <topic>.", "completion": <fortune>} for chat fine-tuning.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPlainAscii, jsonl, pick, writeData } from './common.js';

const DIR = '/usr/share/games/fortunes';
/** Category file → the topic named in prompts. */
const TOPICS: Record<string, string> = {
  computers: 'computers',
  science: 'science',
  wisdom: 'wisdom',
  work: 'work',
  education: 'learning',
  food: 'food',
  pets: 'pets',
  sports: 'sports',
  literature: 'books',
  linux: 'Linux',
  platitudes: 'life',
  people: 'people',
};
const PROMPTS = ['Tell me a fortune about {}.', 'Share a saying about {}.', 'Give me a short quote about {}.', 'What is a good fortune about {}?'];
const TEXT_COUNT = 1200;
const INSTRUCTION_COUNT = 600;

interface Fortune {
  topic: string;
  text: string;
}

function readFortunes(file: string): string[] {
  const path = join(DIR, file);
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install fortunes`);
  return readFileSync(path, 'utf8')
    .split(/^%$/m)
    .map((f) => f.replace(/^\n+|\s+$/g, '').replace(/[ \t]+$/gm, ''));
}

function usable(text: string): boolean {
  const lines = text.split('\n');
  return isPlainAscii(text) && text.length >= 40 && text.length <= 320 && lines.length <= 6 && lines.every((l) => l.trim() !== '') && !/\t/.test(text);
}

const all: Fortune[] = [];
for (const [file, topic] of Object.entries(TOPICS)) {
  for (const text of readFortunes(file)) if (usable(text)) all.push({ topic, text });
}
const text = pick(all, TEXT_COUNT, 30);
writeData('fortunes', 'fortunes.txt', text.map((f) => f.text).join('\n\n') + '\n');
const instructions = pick(all, INSTRUCTION_COUNT, 31).map((f, i) => ({
  prompt: PROMPTS[i % PROMPTS.length]!.replace('{}', f.topic),
  completion: f.text,
}));
writeData('fortunes', 'instructions.jsonl', jsonl(instructions));
console.log(`fortunes: ${all.length} candidates from ${Object.keys(TOPICS).length} categories; ${text.length} texts, ${instructions.length} instructions`);
