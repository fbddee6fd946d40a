// tokenizer.json is checked when it is loaded: malformed files fail with the JSON path of the problem
// (as the tokenizers library refuses them), valid ones load and encode as before.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { loadTokenizer, Tokenizer, TokenizerError } from '../../src/tokenizers/index.js';
import { fixturePath } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp.js';

type Json = Record<string, unknown>;

const readFixture = (name: string): Json => JSON.parse(readFileSync(fixturePath('tokenizers', name, 'tokenizer.json'), 'utf8')) as Json;
const bpe = readFixture('byte-level-bpe') as Json & { model: { vocab: Record<string, number>; merges: [string, string][] } };
const wordpiece = readFixture('wordpiece');
const expected = JSON.parse(readFileSync(fixturePath('tokenizers', 'byte-level-bpe', 'expected.json'), 'utf8')) as {
  encode: { text: string; add_special_tokens: boolean; ids: number[] }[];
};

/** A copy of `base` with the value at `path` replaced, or removed where `value` is undefined. */
function edited(base: Json, path: readonly (string | number)[], value: unknown): Json {
  const json = structuredClone(base);
  let node = json as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return json;
}

function rejects(json: Json, message: string): void {
  assert.throws(
    () => new Tokenizer({ tokenizerJson: json, name: 'tok' }),
    (e: unknown) => e instanceof TokenizerError && e.message === `tok: tokenizer.json: ${message}`,
  );
}

const unigram = {
  model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0], ['▁a', -1], ['b', -2], ['▁', -3], ['a', -4]] },
  added_tokens: [{ id: 0, content: '<unk>', special: true }],
  pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
};

let tmp: { dir: string; remove: () => void };
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.remove());

test('loadTokenizer names the folder, the file and the JSON path of a malformed vocab', async () => {
  const cases: [Json, string][] = [
    [edited(bpe, ['model', 'vocab'], Object.fromEntries(Object.entries(bpe.model.vocab).map(([k, v]) => [k, String(v)]))), 'model.vocab["0"] must be an integer id in [0, 2^31), got "21"'],
    [edited(bpe, ['model', 'vocab'], Object.entries(bpe.model.vocab)), 'model.vocab must be an object mapping each token to its id, got [["0",21],["1",22],["2",23],["3",24],["4",25],["5",26],["...'],
  ];
  for (const [json, message] of cases) {
    writeFileSync(join(tmp.dir, 'tokenizer.json'), JSON.stringify(json));
    copyFileSync(fixturePath('tokenizers', 'byte-level-bpe', 'tokenizer_config.json'), join(tmp.dir, 'tokenizer_config.json'));
    await assert.rejects(loadTokenizer(tmp.dir), (e: unknown) => e instanceof TokenizerError && e.message === `directory '${tmp.dir}': tokenizer.json: ${message}`);
  }
});

test('ids must be integers in [0, 2^31), in the vocab and in added_tokens', () => {
  for (const bad of [-1, 2 ** 31, 1.5, '276', null]) {
    rejects(edited(bpe, ['model', 'vocab', 'Ġlines'], bad), `model.vocab["Ġlines"] must be an integer id in [0, 2^31), got ${JSON.stringify(bad)}`);
    rejects(edited(bpe, ['added_tokens', 1, 'id'], bad), `added_tokens[1].id must be an integer id in [0, 2^31), got ${JSON.stringify(bad)}`);
  }
  const top = new Tokenizer({ tokenizerJson: edited(bpe, ['model', 'vocab', 'Ġlines'], 2 ** 31 - 1) });
  assert.equal(top.tokenToId('Ġlines'), 2 ** 31 - 1);
  assert.equal(top.idToToken(2 ** 31 - 1), 'Ġlines');
});

test('model.type must be a supported model, named in the error', () => {
  rejects(edited(bpe, ['model', 'type'], 'Nope'), 'model.type must be one of "BPE", "Unigram", "WordPiece", got "Nope"');
  rejects(edited(bpe, ['model', 'type'], 'WordLevel'), 'model.type must be one of "BPE", "Unigram", "WordPiece", got "WordLevel"');
  rejects(edited(bpe, ['model'], undefined), 'model must be an object, got nothing');
  rejects({ model: { type: 'BPE', vocab: {}, merges: [] }, added_tokens: 'none' }, 'added_tokens must be a list, got "none"');
});

test('BPE merges are pairs of tokens in the vocab that merge into a token of the vocab', () => {
  rejects(edited(bpe, ['model', 'merges'], 'Ġ a'), 'model.merges must be a list, got "Ġ a"');
  rejects(edited(bpe, ['model', 'merges'], undefined), 'model.merges must be a list, got nothing');
  rejects(edited(bpe, ['model', 'merges', 3], ['Ġ', 'zzz']), 'model.merges[3] (["Ġ","zzz"]) needs "zzz", which is not in model.vocab');
  rejects(edited(bpe, ['model', 'merges', 0], ['Ġ', 'Ġlines']), 'model.merges[0] (["Ġ","Ġlines"]) needs "ĠĠlines", which is not in model.vocab');
  rejects(edited(bpe, ['model', 'merges', 2], ['i', 'n', 'g']), 'model.merges[2] must be a pair of tokens ["left", "right"], like the first merge, got ["i","n","g"]');
  rejects(edited(bpe, ['model', 'merges', 2], 'i n'), 'model.merges[2] must be a pair of tokens ["left", "right"], like the first merge, got "i n"');
  const strings = edited(bpe, ['model', 'merges'], bpe.model.merges.map((m) => m.join(' ')));
  rejects(edited(strings, ['model', 'merges', 1], 'Ġ t x'), 'model.merges[1] must be two tokens separated by one space ("left right"), like the first merge, got "Ġ t x"');
  rejects(edited(strings, ['model', 'merges', 1], 'Ġt'), 'model.merges[1] must be two tokens separated by one space ("left right"), like the first merge, got "Ġt"');
  // Merges written as "left right" strings (older files) encode like pairs.
  assert.deepEqual(new Tokenizer({ tokenizerJson: strings }).encode('Hello, world!'), expected.encode[0]!.ids);
});

test('model fields: types of BPE options, WordPiece and Unigram models', () => {
  rejects(edited(bpe, ['model', 'byte_fallback'], 'yes'), 'model.byte_fallback must be true or false, got "yes"');
  rejects(edited(bpe, ['model', 'dropout'], 2), 'model.dropout must be a probability in [0, 1], got 2');
  rejects(edited(bpe, ['model', 'unk_token'], '<unk>'), 'model.unk_token "<unk>" is in neither model.vocab nor added_tokens');
  rejects(edited(wordpiece, ['model', 'unk_token'], undefined), 'model.unk_token must be a string, got nothing');
  rejects(edited(wordpiece, ['model', 'continuing_subword_prefix'], 2), 'model.continuing_subword_prefix must be a string, got 2');
  rejects(edited(wordpiece, ['model', 'max_input_chars_per_word'], -1), 'model.max_input_chars_per_word must be a non-negative integer, got -1');
  rejects({ model: { type: 'Unigram' } }, 'model.vocab must be a list, got nothing');
  rejects({ model: { type: 'Unigram', vocab: [] } }, 'model.vocab must be a non-empty list of [token, score] pairs, got []');
  rejects({ model: { type: 'Unigram', vocab: [['a', 0], ['b', '-1']] } }, 'model.vocab[1] must be a [token, score] pair, got ["b","-1"]');
  rejects({ model: { type: 'Unigram', vocab: { a: 0 } } }, 'model.vocab must be a list, got {"a":0}');
  rejects({ model: { type: 'Unigram', vocab: [['a', 0]], unk_id: 1 } }, 'model.unk_id must be an index into model.vocab (below 1), got 1');
  const tok = new Tokenizer({ tokenizerJson: unigram });
  assert.deepEqual(tok.encode('a ab'), [1, 1, 2]);
  assert.equal(tok.decode([1, 1, 2]), 'a ab');
});

test('normalizers, pre-tokenizers, post-processors and decoders are checked by type, nested ones too', () => {
  rejects(edited(bpe, ['normalizer'], { type: 'Nmt' }), 'normalizer.type must be one of "BertNormalizer", "Precompiled", "Sequence", "Replace", "NFC", "NFD", "NFKC", "NFKD", "Strip", "StripAccents", "Lowercase", "Prepend", got "Nmt"');
  rejects(edited(bpe, ['normalizer'], []), 'normalizer must be an object, got []');
  rejects(
    edited(bpe, ['normalizer'], { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Text: ' ' }, content: '▁' }] }),
    'normalizer.normalizers[1].pattern must be {"String": text} or {"Regex": expression}, got {"Text":" "}',
  );
  rejects(edited(bpe, ['normalizer'], { type: 'Sequence', normalizers: [null] }), 'normalizer.normalizers[0] must be an object, got null');
  rejects(edited(bpe, ['pre_tokenizer', 'add_prefix_space'], 'false'), 'pre_tokenizer.add_prefix_space must be true or false, got "false"');
  rejects(
    edited(bpe, ['pre_tokenizer'], { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Dropped' }] }),
    'pre_tokenizer.pretokenizers[0].behavior must be one of "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous", got "Dropped"',
  );
  rejects(edited(bpe, ['pre_tokenizer'], { type: 'FixedLength', length: 0 }), 'pre_tokenizer.length must be a positive integer, got 0');
  rejects(edited(bpe, ['post_processor', 'single', 0, 'SpecialToken', 'id'], '<s>'), 'post_processor.single[0].SpecialToken.id "<s>" is not defined in post_processor.special_tokens');
  rejects(edited(bpe, ['post_processor', 'pair', 1], { Sequence: { id: 'C', type_id: 0 } }), 'post_processor.pair[1].Sequence.id must be one of "A", "B", got "C"');
  rejects(edited(bpe, ['post_processor', 'special_tokens', '<|begin_of_text|>', 'ids'], ['0']), 'post_processor.special_tokens["<|begin_of_text|>"].ids[0] must be an integer id in [0, 2^31), got "0"');
  rejects(edited(wordpiece, ['post_processor'], { type: 'BertProcessing', sep: ['[SEP]', 3], cls: '[CLS]' }), 'post_processor.cls must be a list, got "[CLS]"');
  rejects(edited(bpe, ['decoder'], { type: 'Sequence', decoders: [{ type: 'Strip', content: ' ', start: '1', stop: 0 }] }), 'decoder.decoders[0].start must be a non-negative integer, got "1"');
  rejects(edited(wordpiece, ['decoder', 'prefix'], undefined), 'decoder.prefix must be a string, got nothing');
  rejects(edited(bpe, ['added_tokens', 0], { id: 0 }), 'added_tokens[0].content must be a string, got nothing');
  rejects(edited(bpe, ['added_tokens', 2, 'special'], 1), 'added_tokens[2].special must be true or false, got 1');
});

test('valid files load and encode as before, including ones that leave optional parts out', () => {
  const reference = new Tokenizer({ tokenizerJson: bpe });
  for (const c of expected.encode) assert.deepEqual(reference.encode(c.text, { addSpecialTokens: c.add_special_tokens }), c.ids, c.text);
  const untyped = new Tokenizer({ tokenizerJson: edited(bpe, ['model', 'type'], undefined) });
  const sparse = new Tokenizer({ tokenizerJson: { model: bpe.model, pre_tokenizer: bpe.pre_tokenizer, decoder: bpe.decoder } });
  for (const c of expected.encode) {
    assert.deepEqual(untyped.encode(c.text, { addSpecialTokens: c.add_special_tokens }), c.ids, c.text);
    assert.deepEqual(sparse.encode(c.text, { addSpecialTokens: false }), reference.encode(c.text, { addSpecialTokens: false }), c.text);
  }
  assert.equal(reference.decode(expected.encode[0]!.ids), untyped.decode(expected.encode[0]!.ids));
});
