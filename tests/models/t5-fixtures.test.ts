import { test } from 'node:test';
import {
  AutoModel,
  AutoModelForQuestionAnswering,
  AutoModelForSeq2SeqLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  T5EncoderModel,
  type PreTrainedModel,
} from '../../src/models/index.js';
import { checkModelFixture } from '../helpers/model-fixtures.js';

const CASES: [string, string, (dir: string) => Promise<PreTrainedModel>][] = [
  ['t5-seq2seq', 'outputs, loss, every gradient', (dir) => AutoModelForSeq2SeqLM.fromPretrained(dir)],
  ['t5-v1_1-seq2seq', 'gated-gelu, unscaled decoder outputs', (dir) => AutoModelForSeq2SeqLM.fromPretrained(dir)],
  ['t5-untied-gated-silu', 'own lm_head, tie_word_embeddings false, 3 decoder layers', (dir) => AutoModelForSeq2SeqLM.fromPretrained(dir)],
  ['t5-base', 'T5Model', (dir) => AutoModel.fromPretrained(dir)],
  ['t5-encoder', 'T5EncoderModel', (dir) => T5EncoderModel.fromPretrained(dir)],
  ['t5-seqcls', 'pooled at <eos>', (dir) => AutoModelForSequenceClassification.fromPretrained(dir)],
  ['t5-tokcls', 'encoder only, every gradient', (dir) => AutoModelForTokenClassification.fromPretrained(dir)],
  ['t5-qa', 'decoder over shifted input ids', (dir) => AutoModelForQuestionAnswering.fromPretrained(dir)],
];

for (const [name, what, load] of CASES) {
  test(`${name} (${what}) matches transformers`, () => checkModelFixture(name, load));
}
