// Every example builder and the collator against what transformers' recipes produce on the same
// fixture tokenizers (tests/fixtures/data/alignment.json, from tools/fixtures/data_alignment.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildChatExample,
  buildClassificationExample,
  buildQaFeatures,
  buildSeq2SeqExample,
  buildTokenClassificationExample,
  collate,
  DataError,
  fromObjects,
  LabelMap,
  packRecords,
  type Example,
} from '../../../src/index.js';
import { alignment, fixtureTokenizer } from '../../helpers/data-fixtures.js';

type Case = Record<string, unknown> & { tokenizer: string; record: Record<string, unknown> };
const cases = (key: string): Case[] => alignment[key] as Case[];
const rec = (data: Record<string, unknown>) => fromObjects([data])[0]!;
const opt = (v: unknown): number | undefined => (v === null ? undefined : (v as number));
const arr = (a: ArrayLike<number> | number | undefined): number[] => Array.from(a as ArrayLike<number>);

test('causal LM packing: run_clm group_texts over documents each followed by EOS', async () => {
  for (const c of cases('causal_lm')) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const blocks = packRecords(tok, fromObjects((c.texts as string[]).map((text) => ({ text }))), { blockSize: c.block_size as number, separatorId: c.eos_token_id as number });
    const label = `${c.tokenizer} block ${String(c.block_size)}`;
    assert.deepEqual(blocks.map((b) => arr(b.inputIds)), c.input_ids, label);
    assert.deepEqual(blocks.map((b) => arr(b.labels)), c.labels, label);
  }
});

test('chat: loss on the assistant turns only, truncation to maxLength', async () => {
  assert.ok(cases('chat').length >= 10);
  for (const c of cases('chat')) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const ex = buildChatExample(tok, rec(c.record), { maxLength: opt(c.max_length) ?? 10_000 });
    const label = `${c.tokenizer} ${JSON.stringify(c.record).slice(0, 60)} max ${String(c.max_length)}`;
    assert.deepEqual(arr(ex.inputIds), c.input_ids, label);
    assert.deepEqual(arr(ex.labels), c.labels, label);
  }
});

test('sequence classification: single texts and pairs (longest_first truncation), sorted label list', async () => {
  for (const c of cases('classification')) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const pair = 'text_pair' in c.record;
    const labels = c.label_list === null ? LabelMap.fromValues([0, 1, 2]) : LabelMap.fromRecords(fromObjects([{ label: 'spam' }, { label: 'ham' }]), 'label');
    if (c.label_list !== null) assert.deepEqual(labels.names, c.label_list);
    const ex = buildClassificationExample(tok, rec(c.record), { labels, maxLength: opt(c.max_length) ?? 10_000, ...(pair ? { textPairField: 'text_pair' } : {}) });
    const label = `${c.tokenizer} ${JSON.stringify(c.record).slice(0, 50)} max ${String(c.max_length)}`;
    assert.deepEqual(arr(ex.inputIds), c.input_ids, label);
    assert.equal(ex.labels, c.label, label);
    if (pair) assert.deepEqual(arr(ex.tokenTypeIds), c.token_type_ids, label);
    else assert.equal(ex.tokenTypeIds, undefined);
  }
});

test('token classification: first-sub-token labels (and labelAllTokens) as run_ner on WordPiece, byte-level and SentencePiece BPE', async () => {
  const seen = new Set<string>();
  for (const c of cases('token_classification')) {
    const tok = await fixtureTokenizer(c.tokenizer);
    seen.add(c.tokenizer);
    const labels = c.label_list === null ? LabelMap.fromValues([0, 1, 2, 3]) : new LabelMap(c.label_list as string[]);
    const ex = buildTokenClassificationExample(tok, rec(c.record), { labels, labelAllTokens: c.label_all_tokens as boolean, maxLength: opt(c.max_length) ?? 10_000 });
    const label = `${c.tokenizer} ${JSON.stringify(c.record.tokens)} max ${String(c.max_length)} all ${String(c.label_all_tokens)}`;
    assert.deepEqual(arr(ex.inputIds), c.input_ids, label);
    assert.deepEqual(arr(ex.labels), c.labels, label);
  }
  assert.deepEqual([...seen].sort(), ['byte-level-bpe', 'sentencepiece-bpe', 'wordpiece']);
});

test('extractive QA: windows with a stride, answer positions or the CLS index, as run_qa', async () => {
  let windows = 0;
  for (const c of cases('qa')) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const label = `${c.tokenizer} ${String(c.record.question)} max ${String(c.max_length)} stride ${String(c.doc_stride)}`;
    const build = (): Example[] => buildQaFeatures(tok, rec(c.record), { maxLength: c.max_length as number, docStride: c.doc_stride as number });
    if (c.features === null) {
      assert.throws(build, (e: unknown) => e instanceof DataError && /docStride/.test(e.message), label);
      continue;
    }
    const expected = c.features as { input_ids: number[]; token_type_ids: number[]; start_positions: number; end_positions: number }[];
    const got = build();
    assert.deepEqual(got.map((f) => arr(f.inputIds)), expected.map((f) => f.input_ids), label);
    assert.deepEqual(got.map((f) => arr(f.tokenTypeIds)), expected.map((f) => f.token_type_ids), label);
    assert.deepEqual(got.map((f) => [f.startPositions, f.endPositions]), expected.map((f) => [f.start_positions, f.end_positions]), label);
    windows += got.length;
  }
  assert.ok(windows > 50);
});

test('seq2seq: prefixed source ids and target ids as labels, each truncated', async () => {
  for (const c of cases('seq2seq')) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const ex = buildSeq2SeqExample(tok, rec(c.record), { prefix: c.prefix as string, maxSourceLength: opt(c.max_source_length) ?? 10_000, maxTargetLength: opt(c.max_target_length) ?? 10_000 });
    const label = `${c.tokenizer} ${String(c.record.source)}`;
    assert.deepEqual(arr(ex.inputIds), c.input_ids, label);
    assert.deepEqual(arr(ex.labels), c.labels, label);
  }
});

test("collate: transformers' padding collators (token classification, seq2seq, with padding)", async () => {
  assert.ok(cases('collate').length >= 12);
  for (const c of alignment.collate as { tokenizer: string; collator: string; pad_to_multiple_of: number | null; features: Record<string, unknown>[]; batch: Record<string, number[][] | number[]> }[]) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const examples: Example[] = c.features.map((f) => {
      const ex: Example = { inputIds: Int32Array.from(f.input_ids as number[]) };
      if (Array.isArray(f.labels)) ex.labels = Int32Array.from(f.labels as number[]);
      if (typeof f.label === 'number') ex.labels = f.label;
      if (Array.isArray(f.token_type_ids)) ex.tokenTypeIds = Int32Array.from(f.token_type_ids as number[]);
      return ex;
    });
    const batch = collate(examples, { padTokenId: tok.padTokenId, paddingSide: tok.paddingSide, ...(c.pad_to_multiple_of === null ? {} : { padToMultipleOf: c.pad_to_multiple_of }) });
    const label = `${c.tokenizer} ${c.collator} multiple ${String(c.pad_to_multiple_of)}`;
    const rows = (t: { shape: readonly number[]; toArray(): ArrayLike<number> } | undefined): number[][] | number[] => {
      const flat = Array.from(t!.toArray());
      if (t!.shape.length === 1) return flat;
      return Array.from({ length: t!.shape[0]! }, (_, i) => flat.slice(i * t!.shape[1]!, (i + 1) * t!.shape[1]!));
    };
    assert.deepEqual(rows(batch.inputIds), c.batch.input_ids, `${label}: input_ids`);
    assert.deepEqual(rows(batch.attentionMask), c.batch.attention_mask, `${label}: attention_mask`);
    assert.deepEqual(rows(batch.labels), c.batch.labels, `${label}: labels`);
    if (c.batch.token_type_ids) assert.deepEqual(rows(batch.tokenTypeIds), c.batch.token_type_ids, `${label}: token_type_ids`);
    for (const t of Object.values(batch)) t.dispose();
  }
});
