// T5: encoder-decoder (T5Model, T5ForConditionalGeneration) and encoder-only (T5EncoderModel).
import { registerModelFamily } from '../auto.js';
import { T5ForConditionalGeneration, T5Model } from './modeling.js';

export { T5Config } from './config.js';
export * from './modeling.js';

registerModelFamily('t5', { base: T5Model, seq2seqLm: T5ForConditionalGeneration });
