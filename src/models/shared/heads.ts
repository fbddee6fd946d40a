// Outputs of the task heads every family shares: logits plus transformers' loss when targets are given.
import { isGradEnabled } from '../../engine/autograd.js';
import { ShapeError } from '../../engine/errors.js';
import { reshape, slice } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import type { PretrainedConfig } from '../config.js';
import { causalLmHeadLoss, causalLmLoss, questionAnsweringLoss, sequenceClassificationLoss, tokenLoss } from '../losses.js';
import type { ModelInputs, ModelOutput } from '../outputs.js';
import { call } from './layers.js';

/**
 * Causal LM: logits [B, T, V] from parent.<head>(hidden), and the next-token loss when labels are given. With labels
 * and returnLogits false (its default when training with grad mode on) a bias-free Linear head goes straight into the
 * loss and no logits are returned.
 */
export function causalLmOutput(parent: Module, head: string, hidden: Tensor, inputs: ModelInputs): ModelOutput {
  const { labels } = inputs;
  const layer = parent.child(head);
  const returnLogits = inputs.returnLogits ?? !(parent.training && isGradEnabled());
  if (labels !== undefined && !returnLogits && layer instanceof Linear && layer.bias === null) {
    return { loss: causalLmHeadLoss(hidden, layer.weight, labels) };
  }
  const logits = call(parent, head, hidden);
  return labels === undefined ? { logits } : { logits, loss: causalLmLoss(logits, labels) };
}

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
