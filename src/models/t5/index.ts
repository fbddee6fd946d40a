// T5: encoder-decoder models (T5Model, T5ForConditionalGeneration, T5ForQuestionAnswering,
// T5ForSequenceClassification) and encoder-only ones (T5EncoderModel, T5ForTokenClassification).
import { registerModelFamily } from '../auto.js';
import {
  T5ForConditionalGeneration,
  T5ForQuestionAnswering,
  T5ForSequenceClassification,
  T5ForTokenClassification,
  T5Model,
} from './modeling.js';

export { T5Config } from './config.js';
export * from './modeling.js';

registerModelFamily('t5', {
  base: T5Model,
  seq2seqLm: T5ForConditionalGeneration,
  questionAnswering: T5ForQuestionAnswering,
  sequenceClassification: T5ForSequenceClassification,
  tokenClassification: T5ForTokenClassification,
});
