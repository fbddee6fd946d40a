import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BertConfig,
  BertForMaskedLM,
  BertForQuestionAnswering,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertModel,
  DistilBertConfig,
  DistilBertForMaskedLM,
  DistilBertForQuestionAnswering,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
  ModelConfigError,
  RobertaConfig,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  type PreTrainedModel,
} from '../../src/models/index.js';
import { checkModelFixture, modelFixtureCases, modelFixtureDir } from '../helpers/model-fixtures.js';

const CLASSES: Record<string, { fromPretrained(dir: string): Promise<PreTrainedModel> }> = {
  'bert-base': BertModel,
  'bert-seqcls': BertForSequenceClassification,
  'bert-seqcls-regression': BertForSequenceClassification,
  'bert-seqcls-multilabel': BertForSequenceClassification,
  'bert-tokcls': BertForTokenClassification,
  'bert-qa': BertForQuestionAnswering,
  'bert-mlm': BertForMaskedLM,
  'roberta-seqcls': RobertaForSequenceClassification,
  'roberta-mlm': RobertaForMaskedLM,
  'distilbert-seqcls': DistilBertForSequenceClassification,
  'distilbert-tokcls': DistilBertForTokenClassification,
  'distilbert-qa': DistilBertForQuestionAnswering,
  'distilbert-mlm': DistilBertForMaskedLM,
};

test('every bert, roberta and distilbert fixture case has a class', () => {
  assert.deepEqual(modelFixtureCases('bert', 'roberta', 'distilbert'), Object.keys(CLASSES).sort());
});

for (const [name, cls] of Object.entries(CLASSES)) {
  test(`${name} matches transformers`, () => checkModelFixture(name, (dir) => cls.fromPretrained(dir)));
}

test('masked-LM decoders share the word embeddings and the head bias', async () => {
  const bert = await BertForMaskedLM.fromPretrained(modelFixtureDir('bert-mlm'));
  const roberta = await RobertaForMaskedLM.fromPretrained(modelFixtureDir('roberta-mlm'));
  try {
    const decoder = bert.getSubmodule('cls.predictions.decoder');
    assert.equal(decoder.parameter('weight'), bert.getInputEmbeddings().weight);
    assert.equal(decoder.parameter('bias'), bert.getSubmodule('cls.predictions').parameter('bias'));
    assert.equal(bert.outputEmbeddingsName(), 'cls.predictions.decoder');
    assert.equal(roberta.getSubmodule('lm_head.decoder').parameter('bias'), roberta.getSubmodule('lm_head').parameter('bias'));
    assert.equal(roberta.getSubmodule('lm_head.decoder').parameter('weight'), roberta.getInputEmbeddings().weight);
    assert.ok(roberta.getSubmodule('roberta').typeName === 'RobertaModel');
  } finally {
    bert.dispose();
    roberta.dispose();
  }
});

test('configs name the field that is missing or inconsistent', () => {
  const bert = { model_type: 'bert', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16 };
  assert.throws(() => new BertConfig({ ...bert, num_attention_heads: 3 }), /"hidden_size" \(8\) must be divisible by "num_attention_heads" \(3\)/);
  const { intermediate_size: _, ...noIntermediate } = bert;
  assert.throws(() => new BertConfig(noIntermediate, 'x/config.json'), /x\/config\.json: missing required field "intermediate_size"/);
  assert.throws(() => new BertConfig({ ...bert, hidden_act: 'gelu_10' }), /"hidden_act" "gelu_10" is not supported/);
  assert.throws(() => new BertConfig({ ...bert, pad_token_id: 10 }), /"pad_token_id" \(10\) must be a token id below "vocab_size" \(10\)/);
  assert.throws(() => new BertConfig({ ...bert, is_decoder: true }), /"is_decoder" is not supported/);
  assert.equal(new BertConfig(bert).paddingIdx, 0);
  assert.equal(new RobertaConfig({ ...bert, model_type: 'roberta' }).paddingIdx, 1);
  const distil = { model_type: 'distilbert', vocab_size: 10, dim: 8, n_layers: 1, n_heads: 3, hidden_dim: 16, max_position_embeddings: 16 };
  assert.throws(() => new DistilBertConfig(distil), /"dim" \(8\) must be divisible by "n_heads" \(3\)/);
  assert.throws(() => new DistilBertForQuestionAnswering(new DistilBertConfig({ ...distil, n_heads: 2, num_labels: 3 })), /"num_labels" must be 2/);
});

test('configs reject sizes below 1 and a negative layer_norm_eps, naming the file and the key', () => {
  const fails = (build: () => unknown, pattern: RegExp) => assert.throws(build, (e: Error) => e instanceof ModelConfigError && pattern.test(e.message), `expected ${pattern}`);
  const bert = { model_type: 'bert', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16 };
  for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size']) {
    fails(() => new BertConfig({ ...bert, [key]: -32 }, 'x/config.json'), new RegExp(`^x/config\\.json: "${key}" must be a positive integer, got -32$`));
    fails(() => new RobertaConfig({ ...bert, model_type: 'roberta', [key]: 0 }), new RegExp(`"${key}" must be a positive integer, got 0`));
  }
  fails(() => new BertConfig({ ...bert, layer_norm_eps: -1 }, 'x/config.json'), /^x\/config\.json: "layer_norm_eps" must be a non-negative number, got -1$/);
  assert.equal(new BertConfig({ ...bert, layer_norm_eps: 0 }).layerNormEps, 0);
  const distil = { model_type: 'distilbert', vocab_size: 10, dim: 8, n_layers: 1, n_heads: 2, hidden_dim: 16, max_position_embeddings: 16 };
  for (const key of ['vocab_size', 'dim', 'n_layers', 'n_heads', 'hidden_dim', 'max_position_embeddings', 'num_labels']) {
    fails(() => new DistilBertConfig({ ...distil, [key]: -32 }, 'x/config.json'), new RegExp(`^x/config\\.json: "${key}" must be a positive integer, got -32$`));
  }
});
