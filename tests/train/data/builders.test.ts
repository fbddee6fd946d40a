// Example builders beyond the transformers fixtures: record forms, label maps, packing across
// documents, and the errors that name the file, line and field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildChatExample,
  buildClassificationExample,
  buildQaFeatures,
  buildSeq2SeqExample,
  buildTokenClassificationExample,
  CausalLmPacker,
  collate,
  DataError,
  fromObjects,
  IGNORE_INDEX,
  LabelMap,
  type DataRecord,
} from '../../../src/index.js';
import { fixtureTokenizer } from '../../helpers/data-fixtures.js';

const at = (data: Record<string, unknown>, line = 17): DataRecord => ({ data, file: 'train.jsonl', line });

function throwsData(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, String(e));
    assert.ok(e.message.startsWith('train.jsonl:17: '), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('CausalLmPacker streams blocks across documents and holds back the remainder', async () => {
  const tok = await fixtureTokenizer('byte-level-bpe');
  const packer = new CausalLmPacker(tok, { blockSize: 5 });
  const docs = ['Hello, world!', 'The quick brown fox jumps over the lazy dog.'];
  const stream = docs.flatMap((t) => [...tok.encode(t), tok.eosTokenId!]);
  const blocks = docs.flatMap((text) => packer.addText(text));
  assert.deepEqual(blocks.flatMap((b) => [...b.inputIds]), stream.slice(0, blocks.length * 5));
  assert.equal(packer.pendingTokens, stream.length % 5);
  assert.ok(blocks.every((b) => b.inputIds.length === 5 && [...(b.labels as Int32Array)].join() === [...b.inputIds].join()));
  throwsData(() => packer.add(at({ body: 'x' })), /field "text" missing \(expected a string\)/);
  const wp = await fixtureTokenizer('wordpiece');
  assert.throws(() => new CausalLmPacker(wp, { blockSize: 4 }), /has no eos_token/);
  assert.equal(new CausalLmPacker(wp, { blockSize: 4, separatorId: null }).addText('hello world').length, 1);
});

test('chat: the three record forms render the same conversation; a system prompt goes first', async () => {
  const tok = await fixtureTokenizer('byte-level-bpe');
  const a = buildChatExample(tok, at({ prompt: 'Say hi', completion: 'Hi!' }));
  const b = buildChatExample(tok, at({ instruction: 'Say hi', output: 'Hi!' }));
  const c = buildChatExample(tok, at({ messages: [{ role: 'user', content: 'Say hi' }, { role: 'assistant', content: 'Hi!' }] }));
  assert.deepEqual([...a.inputIds], [...c.inputIds]);
  assert.deepEqual([...b.labels as Int32Array], [...c.labels as Int32Array]);
  const answer = [...(a.labels as Int32Array)].filter((l) => l !== IGNORE_INDEX);
  assert.equal(tok.decode(answer), 'Hi!<|eot_id|>');
  const sys = buildChatExample(tok, at({ prompt: 'Say hi', completion: 'Hi!' }), { systemPrompt: 'Be kind.' });
  assert.match(tok.decode([...sys.inputIds]), /^<\|begin_of_text\|><\|start_header_id\|>system<\|end_header_id\|>\n\nBe kind\./);
});

test('chat errors: bad records, no answer, a template whose prompt is not a prefix', async () => {
  const tok = await fixtureTokenizer('byte-level-bpe');
  throwsData(() => buildChatExample(tok, at({ prompt: 'x' })), /field "completion" missing/);
  throwsData(() => buildChatExample(tok, at({ messages: [{ role: 'user' }] })), /message 0 must be \{"role": string, "content": string\}/);
  throwsData(() => buildChatExample(tok, at({ messages: [{ role: 'user', content: 'x' }] })), /no assistant message/);
  throwsData(() => buildChatExample(tok, at({ messages: [{ role: 'assistant', content: 'x' }] })), /starts with an assistant message/);
  throwsData(() => buildChatExample(tok, at({ text: 'x' })), /expected a chat record/);
  // A template that renders the generation prompt differently from the answer's header.
  const odd = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}[reply]{% endif %}";
  throwsData(() => buildChatExample(tok, at({ prompt: 'x', completion: 'y' }), { chatTemplate: odd }), /cannot find the tokens of assistant message 1/);
});

test('classification: labels from the data (sorted), integer labels, config.json maps, errors', async () => {
  const tok = await fixtureTokenizer('wordpiece');
  const recs = fromObjects([{ text: 'b', label: 'spam' }, { text: 'a', label: 'ham' }, { text: 'c', label: 'eggs' }]);
  const labels = LabelMap.fromRecords(recs, 'label');
  assert.deepEqual(labels.names, ['eggs', 'ham', 'spam']);
  assert.deepEqual(labels.toConfig(), { id2label: { 0: 'eggs', 1: 'ham', 2: 'spam' }, label2id: { eggs: 0, ham: 1, spam: 2 } });
  assert.deepEqual(LabelMap.fromConfig(labels.toConfig()).names, labels.names);
  assert.equal(buildClassificationExample(tok, recs[0]!, { labels }).labels, 2);
  assert.deepEqual(LabelMap.fromValues([2, 0]).names, ['0', '1', '2']);
  assert.throws(() => LabelMap.fromValues(['a', 1]), /mix strings and integers/);
  throwsData(() => buildClassificationExample(tok, at({ text: 'x', label: 'bacon' }), { labels }), /field "label": the label "bacon" is not one of the 3 labels: one of "eggs", "ham", "spam"/);
  throwsData(() => buildClassificationExample(tok, at({ text: 'x', label: 3 }), { labels }), /the label id 3 is not one of the 3 labels \(ids 0-2\)/);
  throwsData(() => buildClassificationExample(tok, at({ text: 'x', label: -1 }), { labels }), /field "label" must be a string or a non-negative integer, got number -1/);
  throwsData(() => buildClassificationExample(tok, at({ text: 5, label: 'ham' }), { labels }), /field "text" must be a string, got number 5/);
  throwsData(() => buildClassificationExample(tok, at({ text: 'x', label: 'ham' }), { labels, textPairField: 'second' }), /field "second" missing/);
});

test('token classification errors: tags and words differ in number, unknown tags', async () => {
  const tok = await fixtureTokenizer('wordpiece');
  const labels = new LabelMap(['O', 'B-X', 'I-X']);
  throwsData(() => buildTokenClassificationExample(tok, at({ tokens: ['a', 'b'], tags: ['O'] }), { labels }), /field "tags" has 1 tags for the 2 words of "tokens"/);
  throwsData(() => buildTokenClassificationExample(tok, at({ tokens: ['a'], tags: ['B-Y'] }), { labels }), /the label "B-Y" is not one of the 3 labels/);
  throwsData(() => buildTokenClassificationExample(tok, at({ tokens: 'a b', tags: ['O'] }), { labels }), /field "tokens" must be an array of strings/);
});

test('QA: answer_start counts code points; answers that are not in the context are errors', async () => {
  const tok = await fixtureTokenizer('byte-level-bpe');
  const context = '🤗 The fox jumps.';
  const [f] = buildQaFeatures(tok, at({ question: 'Who?', context, answers: { text: ['fox'], answer_start: [6] } }));
  const span = [...f!.inputIds].slice(f!.startPositions, f!.endPositions! + 1);
  assert.equal(tok.decode(span).trim(), 'fox');
  throwsData(() => buildQaFeatures(tok, at({ question: 'Who?', context, answers: { text: ['fox'], answer_start: [7] } })), /the answer "fox" is not in the context at answer_start 7/);
  throwsData(() => buildQaFeatures(tok, at({ question: 'Who?', context, answers: { text: 'fox' } })), /field "answers" must be/);
  throwsData(() => buildQaFeatures(tok, at({ context, answers: { text: [], answer_start: [] } })), /field "question" missing/);
});

test('seq2seq and collate: labels padded with -100 to their own length; mixed fields are errors', async () => {
  const tok = await fixtureTokenizer('wordpiece');
  const a = buildSeq2SeqExample(tok, at({ source: 'the dog', target: 'der hund ist da' }), { prefix: 'to german: ', maxSourceLength: 64, maxTargetLength: 64 });
  const b = buildSeq2SeqExample(tok, at({ source: 'a b c d e f g', target: 'x' }));
  const batch = collate([a, b], { padTokenId: tok.padTokenId, padToMultipleOf: 4 });
  const round4 = (n: number): number => Math.ceil(n / 4) * 4;
  const labelLength = round4(Math.max((a.labels as Int32Array).length, (b.labels as Int32Array).length));
  assert.notEqual(labelLength, round4(Math.max(a.inputIds.length, b.inputIds.length)));
  assert.deepEqual([...batch.labels!.shape], [2, labelLength]);
  assert.deepEqual([...batch.inputIds.shape], [2, round4(Math.max(a.inputIds.length, b.inputIds.length))]);
  const row1 = [...batch.labels!.toArray()].slice(labelLength);
  assert.deepEqual(row1, [...(b.labels as Int32Array), ...new Array(labelLength - (b.labels as Int32Array).length).fill(IGNORE_INDEX)]);
  for (const t of Object.values(batch)) t.dispose();
  assert.throws(() => collate([a, { inputIds: b.inputIds }], { padTokenId: 0 }), /"labels" is set on 1 of the 2 examples/);
  assert.throws(() => collate([a, { inputIds: b.inputIds, labels: 1 }], { padTokenId: 0 }), /class labels and others per-token labels/);
  assert.throws(() => collate([a, b], { padTokenId: null }), /need padding but there is no pad token id/);
  assert.throws(() => collate([], { padTokenId: 0 }), /no examples/);
});
