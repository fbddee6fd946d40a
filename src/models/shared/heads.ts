// Outputs of the task heads every family shares: logits plus transformers' loss when targets are given.
import { ShapeError } from '../../engine/errors.js';
import { reshape, slice } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import type { PretrainedConfig } from '../config.js';
import { questionAnsweringLoss, sequenceClassificationLoss, tokenLoss } from '../losses.js';
import type { ModelInputs, ModelOutput } from '../outputs.js';

/** Sequence classification / regression: logits [B, numLabels], loss by the config's problem_type. */
export function sequenceClassifierOutput(logits: Tensor, inputs: ModelInputs, config: PretrainedConfig): ModelOutput {
  if (inputs.labels === undefined) return { logits };
  return { logits, loss: sequenceClassificationLoss(logits, inputs.labels, config.numLabels, config.problemType) };
}

/** Per-token classification (also masked LM): logits [B, T, C] against labels [B, T], -100 ignored. */
export function tokenClassifierOutput(logits: Tensor, inputs: ModelInputs): ModelOutput {
  return inputs.labels === undefined ? { logits } : { logits, loss: tokenLoss(logits, inputs.labels) };
}

/** Extractive QA: logits [B, T, 2] split into start and end logits [B, T]. */
export function questionAnsweringOutput(logits: Tensor, inputs: ModelInputs): ModelOutput {
  const [b, t, n] = logits.shape as [number, number, number];
  if (n !== 2) throw new ShapeError('questionAnsweringOutput', 'logits', `must have 2 outputs (start, end) per token, got ${n}: set "num_labels" to 2`);
  const startLogits = reshape(slice(logits, 2, 0, 1), [b, t]);
  const endLogits = reshape(slice(logits, 2, 1, 2), [b, t]);
  const { startPositions, endPositions } = inputs;
  if (startPositions === undefined || endPositions === undefined) return { startLogits, endLogits };
  return { startLogits, endLogits, loss: questionAnsweringLoss(startLogits, endLogits, startPositions, endPositions) };
}
