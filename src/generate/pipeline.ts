// The processors a generation config calls for, in the order transformers' generate applies them:
// repetition penalty, no-repeat n-grams, EOS suppression below the minimum length, then — only when
// sampling — temperature, top-k and top-p.
import type { Tensor } from '../engine/tensor.js';
import { lengthLimits, type GenerationConfig } from './config.js';
import { minLengthProcessor, noRepeatNgramProcessor, repetitionPenaltyProcessor, type LogitsProcessor } from './processors.js';
import type { TokenHistory } from './token-history.js';
import { temperatureWarper, topKWarper, topPWarper } from './warpers.js';

export function logitsProcessorsFor(config: GenerationConfig, promptLength: number): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (config.repetitionPenalty !== 1) list.push(repetitionPenaltyProcessor(config.repetitionPenalty));
  if (config.noRepeatNgramSize > 0) list.push(noRepeatNgramProcessor(config.noRepeatNgramSize));
  const { minLength } = lengthLimits(config, promptLength);
  if (minLength > 0 && config.eosTokenIds.length > 0) list.push(minLengthProcessor(minLength, config.eosTokenIds));
  if (config.doSample) {
    if (config.temperature !== 1) list.push(temperatureWarper(config.temperature));
    if (config.topK !== 0) list.push(topKWarper(config.topK));
    if (config.topP < 1) list.push(topPWarper(config.topP));
  }
  return list;
}

export function applyProcessors(processors: readonly LogitsProcessor[], scores: Tensor, history: TokenHistory): void {
  for (const p of processors) p.process(scores, history);
}
