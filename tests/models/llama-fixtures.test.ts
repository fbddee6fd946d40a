import { test } from 'node:test';
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForQuestionAnswering,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  type AutoModelClass,
} from '../../src/models/index.js';
import { checkModelFixture } from '../helpers/model-fixtures.js';

const AUTO: [string, AutoModelClass][] = [
  ['llama-base', AutoModel],
  ['llama-lm', AutoModelForCausalLM],
  ['llama-lm-tied-llama3rope', AutoModelForCausalLM],
  ['llama-lm-linearrope-headdim', AutoModelForCausalLM],
  ['llama-seqcls', AutoModelForSequenceClassification],
  ['llama-tokcls', AutoModelForTokenClassification],
  ['llama-qa', AutoModelForQuestionAnswering],
  ['mistral-lm-sliding', AutoModelForCausalLM],
  ['qwen2-lm', AutoModelForCausalLM],
  ['llama-lm-leftpad', AutoModelForCausalLM],
  ['llama-lm-packed', AutoModelForCausalLM],
  ['llama-lm-legacy-rope', AutoModelForCausalLM],
  ['mistral-lm-leftpad-window4', AutoModelForCausalLM],
  ['qwen2-lm-mixed-sliding', AutoModelForCausalLM],
  ['qwen2-seqcls-leftpad', AutoModelForSequenceClassification],
];

for (const [name, auto] of AUTO) {
  test(`${name} matches transformers`, () => checkModelFixture(name, (dir) => auto.fromPretrained(dir)));
}
