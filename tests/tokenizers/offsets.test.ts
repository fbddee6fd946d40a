// Token offsets and special-token layouts against transformers (tests/fixtures/data/alignment.json).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenizerError } from '../../src/tokenizers/index.js';
import { alignment, fixtureTokenizer, toCodePoints } from '../helpers/data-fixtures.js';

interface OffsetCase {
  tokenizer: string;
  text: string;
  add_special_tokens: boolean;
  ids: number[];
  offsets: [number, number][];
}

interface SpecialCase {
  tokenizer: string;
  first: number[];
  second: number[] | null;
  input_ids: number[];
  token_type_ids: number[];
  sequence_ids?: (number | null)[];
}

test('encodeWithOffsets gives transformers offset_mapping (code points compared)', async () => {
  const cases = alignment.offsets as unknown as OffsetCase[];
  assert.ok(cases.length >= 50);
  for (const c of cases) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const enc = tok.encodeWithOffsets(c.text, { addSpecialTokens: c.add_special_tokens });
    const label = `${c.tokenizer} ${JSON.stringify(c.text)} special=${c.add_special_tokens}`;
    assert.deepEqual(enc.ids, c.ids, `${label}: ids`);
    assert.deepEqual(toCodePoints(c.text, enc.offsets), c.offsets, `${label}: offsets`);
  }
});

test('offsets are UTF-16 indices into the text', async () => {
  const tok = await fixtureTokenizer('byte-level-bpe');
  const text = '🤗 café';
  const enc = tok.encodeWithOffsets(text, { addSpecialTokens: false });
  assert.equal(text.slice(enc.offsets[0]![0], enc.offsets.at(-1)![1]), text);
  assert.deepEqual(enc.offsets.at(-1), [text.length - 1, text.length]);
});

test('buildInputsWithSpecialTokens: ids, token type ids and sequence ids as transformers', async () => {
  for (const c of alignment.special_inputs as unknown as SpecialCase[]) {
    const tok = await fixtureTokenizer(c.tokenizer);
    const built = tok.buildInputsWithSpecialTokens(c.first, c.second ?? undefined);
    assert.deepEqual(built.inputIds, c.input_ids, c.tokenizer);
    assert.deepEqual(built.tokenTypeIds, c.token_type_ids, c.tokenizer);
    if (c.sequence_ids) assert.deepEqual(built.sequenceIds, c.sequence_ids, c.tokenizer);
    assert.equal(tok.numSpecialTokensToAdd(c.second !== null), c.input_ids.length - c.first.length - (c.second?.length ?? 0));
  }
});

test('encodeWithOffsets and buildInputsWithSpecialTokens reject bad arguments', async () => {
  const tok = await fixtureTokenizer('wordpiece');
  assert.throws(() => tok.buildInputsWithSpecialTokens([1.5]), TokenizerError);
  assert.throws(() => tok.encodeWithOffsets(3 as unknown as string), /encodeWithOffsets expects a string/);
});
