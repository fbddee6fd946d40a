// The Llama family under its three model types. Mistral and Qwen2 are the same code (their
// differences live in LlamaConfig); their classes exist for their names.
import { registerModelFamily } from '../auto.js';
import {
  LlamaForCausalLM,
  LlamaForQuestionAnswering,
  LlamaForSequenceClassification,
  LlamaForTokenClassification,
  LlamaModel,
} from './modeling.js';

export { LlamaConfig, type LlamaModelType } from './config.js';
export * from './modeling.js';

export class MistralModel extends LlamaModel {}
export class MistralForCausalLM extends LlamaForCausalLM {}
export class MistralForSequenceClassification extends LlamaForSequenceClassification {}
export class MistralForTokenClassification extends LlamaForTokenClassification {}
export class MistralForQuestionAnswering extends LlamaForQuestionAnswering {}

export class Qwen2Model extends LlamaModel {}
export class Qwen2ForCausalLM extends LlamaForCausalLM {}
export class Qwen2ForSequenceClassification extends LlamaForSequenceClassification {}
export class Qwen2ForTokenClassification extends LlamaForTokenClassification {}
export class Qwen2ForQuestionAnswering extends LlamaForQuestionAnswering {}

registerModelFamily('llama', {
  base: LlamaModel,
  causalLm: LlamaForCausalLM,
  sequenceClassification: LlamaForSequenceClassification,
  tokenClassification: LlamaForTokenClassification,
  questionAnswering: LlamaForQuestionAnswering,
});
registerModelFamily('mistral', {
  base: MistralModel,
  causalLm: MistralForCausalLM,
  sequenceClassification: MistralForSequenceClassification,
  tokenClassification: MistralForTokenClassification,
  questionAnswering: MistralForQuestionAnswering,
});
registerModelFamily('qwen2', {
  base: Qwen2Model,
  causalLm: Qwen2ForCausalLM,
  sequenceClassification: Qwen2ForSequenceClassification,
  tokenClassification: Qwen2ForTokenClassification,
  questionAnswering: Qwen2ForQuestionAnswering,
});
