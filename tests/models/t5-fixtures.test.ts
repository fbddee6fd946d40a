import { test } from 'node:test';
import { AutoModel, AutoModelForSeq2SeqLM, T5EncoderModel } from '../../src/models/index.js';
import { checkModelFixture } from '../helpers/model-fixtures.js';


test('t5-seq2seq matches transformers (outputs, loss, every gradient)', async () => {
  (await checkModelFixture('t5-seq2seq', (dir) => AutoModelForSeq2SeqLM.fromPretrained(dir))).dispose();
});

test('t5-v1_1-seq2seq (gated-gelu, unscaled decoder outputs) matches transformers', async () => {
  (await checkModelFixture('t5-v1_1-seq2seq', (dir) => AutoModelForSeq2SeqLM.fromPretrained(dir))).dispose();
});

test('t5-base (T5Model) matches transformers', async () => {
  (await checkModelFixture('t5-base', (dir) => AutoModel.fromPretrained(dir))).dispose();
});

test('t5-encoder (T5EncoderModel) matches transformers', async () => {
  (await checkModelFixture('t5-encoder', (dir) => T5EncoderModel.fromPretrained(dir))).dispose();
});

test('t5-untied-gated-silu (own lm_head, tie_word_embeddings false) matches transformers', async () => {
  (await checkModelFixture('t5-untied-gated-silu', (dir) => AutoModelForSeq2SeqLM.fromPretrained(dir))).dispose();
});
