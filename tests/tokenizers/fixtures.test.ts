// Reproduces exactly what transformers' AutoTokenizer produced for three small tokenizers
// (tools/fixtures/tokenizers.py): ids, decodings, padded/truncated batches, chat templates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadTokenizer, type ChatMessage, type SpecialTokenName } from '../../src/tokenizers/index.js';
import { fixturePath } from '../helpers/paths.js';

interface Expected {
  special: Record<string, { token: string | null; id: number | null }>;
  padding_side: 'left' | 'right';
  model_max_length: number;
  encode: { text: string; add_special_tokens: boolean; ids: number[] }[];
  decode: { ids: number[]; skip_special_tokens: boolean; text: string }[];
  batch: {
    padding: 'longest' | 'max_length' | 'do_not_pad';
    truncation: boolean;
    max_length: number | null;
    padding_side: 'left' | 'right' | null;
    truncation_side: 'left' | 'right';
    texts: string[];
    input_ids: number[][];
    attention_mask: number[][];
  }[];
  chat: { messages: ChatMessage[]; add_generation_prompt: boolean; text: string; ids: number[] }[];
  chat_custom: { template: string; messages: ChatMessage[]; tools: Record<string, unknown>[] | null; text: string }[];
}

for (const name of ['byte-level-bpe', 'wordpiece', 'sentencepiece-bpe']) {
  const dir = fixturePath('tokenizers', name);
  const expected = JSON.parse(readFileSync(fixturePath('tokenizers', name, 'expected.json'), 'utf8')) as Expected;

  test(`${name}: special tokens, padding side, model_max_length`, async () => {
    const tok = await loadTokenizer(dir);
    for (const [key, { token, id }] of Object.entries(expected.special)) {
      assert.equal(tok.specialTokens[key as SpecialTokenName], token, key);
      assert.equal(tok.specialId(key as SpecialTokenName), id, `${key} id`);
    }
    assert.equal(tok.paddingSide, expected.padding_side);
    assert.equal(tok.modelMaxLength, expected.model_max_length);
  });

  test(`${name}: encode and decode`, async () => {
    const tok = await loadTokenizer(dir);
    for (const c of expected.encode) {
      assert.deepEqual(tok.encode(c.text, { addSpecialTokens: c.add_special_tokens }), c.ids, `${JSON.stringify(c.text)} add=${c.add_special_tokens}`);
    }
    for (const c of expected.decode) {
      assert.equal(tok.decode(c.ids, { skipSpecialTokens: c.skip_special_tokens }), c.text, `${JSON.stringify(c.ids)} skip=${c.skip_special_tokens}`);
    }
  });

  test(`${name}: batches with padding, truncation and attention masks`, async () => {
    const tok = await loadTokenizer(dir);
    for (const c of expected.batch) {
      const out = tok.encodeBatch(c.texts, {
        padding: c.padding,
        truncation: c.truncation,
        ...(c.max_length !== null && { maxLength: c.max_length }),
        ...(c.padding_side !== null && { paddingSide: c.padding_side }),
        truncationSide: c.truncation_side,
      });
      const label = `${c.padding} truncation=${c.truncation} (${c.truncation_side}) max=${c.max_length} padding side=${c.padding_side}`;
      assert.deepEqual(out.inputIds, c.input_ids, label);
      assert.deepEqual(out.attentionMask, c.attention_mask, label);
    }
  });

  if (expected.chat.length > 0) {
    test(`${name}: chat template text and ids`, async () => {
      const tok = await loadTokenizer(dir);
      for (const c of expected.chat) {
        const opts = { addGenerationPrompt: c.add_generation_prompt };
        assert.equal(tok.applyChatTemplate(c.messages, { ...opts, tokenize: false }), c.text);
        assert.deepEqual(tok.applyChatTemplate(c.messages, opts), c.ids);
      }
      for (const c of expected.chat_custom) {
        const text = tok.applyChatTemplate(c.messages, {
          chatTemplate: c.template,
          addGenerationPrompt: true,
          tokenize: false,
          ...(c.tools !== null && { tools: c.tools }),
        });
        assert.equal(text, c.text, `custom template, tools=${c.tools !== null}`);
      }
    });
  }
}
