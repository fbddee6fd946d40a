// The bundled datasets under data/ load through the readers and build examples on a fixture tokenizer.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildChatExample,
  buildClassificationExample,
  buildQaFeatures,
  buildSeq2SeqExample,
  buildTokenClassificationExample,
  collect,
  LabelMap,
  packRecords,
  readJsonl,
  readTextDocuments,
} from '../../../src/index.js';
import { fixtureTokenizer } from '../../helpers/data-fixtures.js';
import { repoRoot } from '../../helpers/paths.js';

const data = (...p: string[]): string => join(repoRoot, 'data', ...p);
const both = async (name: string) => [...(await collect(readJsonl(data(name, 'train.jsonl')))), ...(await collect(readJsonl(data(name, 'validation.jsonl'))))];

test('every dataset file is under 500 KB', () => {
  for (const f of ['spam/train.jsonl', 'pos-brown/train.jsonl', 'qa-wordnet/train.jsonl', 'translation-de/train.jsonl', 'fortunes/fortunes.txt', 'fortunes/instructions.jsonl']) {
    assert.ok(statSync(data(f)).size < 500 * 1024, f);
  }
});

test('spam: balanced spam/ham classification records', async () => {
  const tok = await fixtureTokenizer('wordpiece');
  const recs = await both('spam');
  const labels = LabelMap.fromRecords(recs, 'label');
  assert.deepEqual(labels.names, ['ham', 'spam']);
  assert.equal(recs.filter((r) => r.data.label === 'spam').length, 250);
  for (const r of recs.slice(0, 50)) assert.equal(typeof buildClassificationExample(tok, r, { labels }).labels, 'number');
});

test('pos-brown: one universal tag per word', async () => {
  const tok = await fixtureTokenizer('byte-level-bpe');
  const recs = await both('pos-brown');
  const labels = LabelMap.fromRecords(recs, 'tags');
  assert.deepEqual(labels.names, ['.', 'ADJ', 'ADP', 'ADV', 'CONJ', 'DET', 'NOUN', 'NUM', 'PRON', 'PRT', 'VERB', 'X']);
  for (const r of recs.slice(0, 40)) {
    const labelled = [...(buildTokenClassificationExample(tok, r, { labels, maxLength: 512 }).labels as Int32Array)].filter((l) => l >= 0);
    assert.equal(labelled.length, (r.data.tokens as string[]).length);
  }
});

test('qa-wordnet: every answer is a span of its context and lands inside a feature', async () => {
  const tok = await fixtureTokenizer('wordpiece');
  const recs = await both('qa-wordnet');
  assert.equal(recs.length, 600);
  for (const r of recs) {
    const [f] = buildQaFeatures(tok, r, { maxLength: 512, docStride: 64 });
    assert.ok(f!.startPositions! > 0 && f!.endPositions! >= f!.startPositions!, String(r.data.question));
  }
});

test('translation-de and fortunes: seq2seq pairs, causal LM blocks, chat examples', async () => {
  const tok = await fixtureTokenizer('byte-level-bpe');
  for (const r of (await both('translation-de')).slice(0, 40)) assert.ok((buildSeq2SeqExample(tok, r).labels as Int32Array).length > 1);
  const docs = await collect(readTextDocuments(data('fortunes', 'fortunes.txt')));
  assert.equal(docs.length, 1200);
  assert.ok(packRecords(tok, docs.slice(0, 100), { blockSize: 64 }).length > 10);
  const instructions = await collect(readJsonl(data('fortunes', 'instructions.jsonl')));
  assert.equal(instructions.length, 600);
  for (const r of instructions.slice(0, 20)) assert.ok([...(buildChatExample(tok, r, { maxLength: 1024 }).labels as Int32Array)].some((l) => l >= 0));
});
