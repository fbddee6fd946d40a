// Task heads every family shares: the dense → tanh → out_proj sentence classification head, and
// the outputs of the heads (logits plus transformers' loss when targets are given).
import { ShapeError } from '../../engine/errors.js';
import { tanh } from '../../engine/ops/activation.js';
import { reshape, slice } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import type { PretrainedConfig } from '../config.js';
import { questionAnsweringLoss, sequenceClassificationLoss, tokenLoss } from '../losses.js';
import type { ModelInputs, ModelOutput } from '../outputs.js';
import { call } from './layers.js';

/** dropout → dense → tanh → dropout → out_proj (RoBERTa's and T5's sequence classification head). */
export class ClassificationHead extends Module {
  constructor(hidden: number, numLabels: number, dropout: number) {
    super();
    this.registerModule('dense', new Linear(hidden, hidden));
    this.registerModule('dropout', new Dropout(dropout));
    this.registerModule('out_proj', new Linear(hidden, numLabels));
  }

  /** Pooled hidden states [B, H] → logits [B, numLabels]. */
  forward(x: Tensor): Tensor {
    const h = tanh(call(this, 'dense', call(this, 'dropout', x)));
    return call(this, 'out_proj', call(this, 'dropout', h));
  }
}

/** Sequence classification / regression: logits [B, numLabels], loss by the config's problem_type. */
export function sequenceClassifierOutput(logits: Tensor, inputs: ModelInputs, config: PretrainedConfig): ModelOutput {
  if (inputs.labels === undefined) return { logits };
  return { logits, loss: sequenceClassificationLoss(logits, inputs.labels, config.numLabels, config.problemType) };
}

/** Per-token classification (also masked and seq2seq LM): logits [B, T, C] against labels [B, T], -100 ignored. */
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
