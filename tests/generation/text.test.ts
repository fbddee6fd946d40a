// Text during decoding: stop strings and EOS against transformers' generate over the scripted LM
// with the byte-level BPE fixture tokenizer, streamed text (never a partial character, always the
// decode of the tokens in the end), trimming stop strings, and incremental detokenisation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, decodeStream, IncrementalDetokenizer, readGenerationConfig, StopStrings, type DecodingOptions, type DecodingResult } from '../../src/generate/index.js';
import { loadTokenizer, type Tokenizer } from '../../src/tokenizers/index.js';
import { fixturePath } from '../helpers/paths.js';
import { generationFixture, scriptedStep } from './helpers.js';

interface Scripted {
  tokenizer: string;
  vocab: number;
  input_ids: number[][];
  attention_mask: number[][];
  scripts: number[][];
  cases: { name: string; generation_config: Record<string, unknown>; sequences: number[][]; texts: string[] }[];
}

const { scripted } = generationFixture<{ scripted: Scripted }>('loop.json');
const prompt = { inputIds: scripted.input_ids, attentionMask: scripted.attention_mask };
const tokenizer = (name = scripted.tokenizer): Promise<Tokenizer> => loadTokenizer(fixturePath(...name.split('/')));
const stopCase = scripted.cases[0]!;

/** Runs the stream, checking every chunk; returns the result and the text streamed per row. */
async function streamed(options: DecodingOptions): Promise<{ result: DecodingResult; text: string[] }> {
  const stream = decodeStream(scriptedStep(scripted.scripts, scripted.vocab), prompt, options);
  const text = scripted.scripts.map(() => '');
  for (;;) {
    const r = await stream.next();
    if (r.done) return { result: r.value, text };
    r.value.text!.forEach((delta, b) => {
      assert.ok(!delta.includes('\uFFFD'), `row ${b}: streamed a partial character at step ${r.value.step}`);
      text[b] += delta;
    });
  }
}

for (const c of scripted.cases) {
  test(`scripted LM: ${c.name}`, async () => {
    const tok = await tokenizer();
    const out = await decode(scriptedStep(scripted.scripts, scripted.vocab), prompt, { generationConfig: readGenerationConfig(c.generation_config), tokenizer: tok });
    assert.deepEqual(out.sequences, c.sequences);
    assert.deepEqual(out.text, c.texts);
  });
}

test('finish reasons: stop string, stop string, EOS', async () => {
  const out = await decode(scriptedStep(scripted.scripts, scripted.vocab), prompt, { generationConfig: readGenerationConfig(stopCase.generation_config), tokenizer: await tokenizer() });
  assert.deepEqual(out.finishReasons, ['stop_string', 'stop_string', 'eos']);
});

test('streamed text is the decode of the generated tokens, without partial characters', async () => {
  const tok = await tokenizer();
  const { result, text } = await streamed({ maxNewTokens: 40, padTokenId: 5, tokenizer: tok });
  assert.deepEqual(text, result.text);
  result.tokens.forEach((tokens, b) => assert.equal(text[b], tok.decode(tokens, { skipSpecialTokens: true }), `row ${b}`));
  assert.match(text[1]!, /日本語/);
  const withSpecial = await streamed({ maxNewTokens: 40, padTokenId: 5, eosTokenId: 4, tokenizer: tok, skipSpecialTokens: false });
  assert.match(withSpecial.text[2]!, /ok<\|eot_id\|>$/);
});

test('trimStopStrings cuts the text where the stop string starts and never streams any of it', async () => {
  const tok = await tokenizer();
  const options = { generationConfig: readGenerationConfig(stopCase.generation_config), tokenizer: tok, trimStopStrings: true };
  const { result, text } = await streamed(options);
  assert.deepEqual(result.text, [' The answer is 42.', ' 日本語 text ', ' café 🤗 ok']);
  assert.deepEqual(text, result.text);
  assert.deepEqual(result.sequences, stopCase.sequences, 'trimming changes the text only');
});

test('incremental detokenisation with byte fallback and Metaspace (sentencepiece-style BPE)', async () => {
  const tok = await tokenizer('tokenizers/sentencepiece-bpe');
  const ids = tok.encode('Unicode: café naïve 日本語 🤗 and unseen ŧħïñĝš', { addSpecialTokens: false });
  const detok = new IncrementalDetokenizer(tok, true);
  let previous = '';
  for (const id of ids) {
    detok.push(id);
    assert.ok(detok.text.startsWith(previous), 'text only grows');
    assert.ok(!detok.text.endsWith('\uFFFD'));
    previous = detok.text;
  }
  assert.equal(detok.text, tok.decode(ids, { skipSpecialTokens: true }));
});

test('stop strings: earliest match, search resumed where it left off, partial matches at the end', () => {
  const stops = new StopStrings(['END', '\nQ']);
  assert.equal(stops.find('a\nQ b END'), 1);
  assert.equal(stops.find('xxEND', 3), 2, 'a match ending after the searched part is found');
  assert.equal(stops.find('ENDxx', 4), -1, 'a match within the searched part was already reported');
  assert.equal(stops.partialMatch('the EN'), 2);
  assert.equal(stops.partialMatch('line\n'), 1);
  assert.equal(stops.partialMatch('done'), 0);
});
