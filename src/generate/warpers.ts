// The warpers transformers applies only when sampling: temperature, top-k and top-p, in place on
// the float32 rows of a [batch, vocab] scores tensor. Filtered entries become -inf.
import { positiveInt, positiveNumber, probability } from './config-fields.js';
import { kernels } from './kernels.js';
import { scoreRows, type LogitsProcessor } from './processors.js';

/** Divides every score by `temperature` (float32 division, as in PyTorch). */
export function temperatureWarper(temperature: number): LogitsProcessor {
  const t = Math.fround(positiveNumber(temperature, { source: 'temperatureWarper', name: 'temperature' }));
  return {
    name: 'temperature',
    process(scores, history) {
      const { data } = scoreRows(scores, history, 'temperature');
      for (let i = 0; i < data.length; i++) data[i] = data[i]! / t;
    },
  };
}

/** Keeps the scores not below each row's k-th largest (so ties with it all stay). */
export function topKWarper(topK: number): LogitsProcessor {
  const k = positiveInt(topK, { source: 'topKWarper', name: 'topK' });
  return {
    name: 'topK',
    process(scores, history) {
      const { batch, vocab } = scoreRows(scores, history, 'topK');
      if (k < vocab) kernels.topKFilter(scores.buffer, batch, vocab, k);
    },
  };
}

/**
 * Nucleus filtering as transformers does it: in ascending order of score, the tokens whose
 * cumulative probability (float32) is <= 1 - topP are removed, the most likely one always stays.
 * Where equal scores straddle the cut, the lower token ids stay (PyTorch's unstable sort makes
 * that choice arbitrary in transformers; the number of tokens kept is the same either way).
 */
export function topPWarper(topP: number): LogitsProcessor {
  const threshold = Math.fround(1 - probability(topP, { source: 'topPWarper', name: 'topP' }));
  return {
    name: 'topP',
    process(scores, history) {
      const { batch, vocab } = scoreRows(scores, history, 'topP');
      kernels.topPFilter(scores.buffer, batch, vocab, threshold);
    },
  };
}
