// The task losses exactly as transformers computes them: shifted causal LM, sequence classification
// by problem_type, token classification, extractive QA (clamped positions), seq2seq.
import { crossEntropy } from '../engine/ops/cross-entropy.js';
import { abs, exp, log } from '../engine/ops/unary.js';
import { relu } from '../engine/ops/activation.js';
import { add, mul, sub } from '../engine/ops/binary.js';
import { mean } from '../engine/ops/reduce.js';
import { reshape } from '../engine/ops/view.js';
import { checkInt } from '../engine/ops/check.js';
import { toDtype } from '../engine/ops/cast.js';
import { ShapeError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { fromArray } from '../engine/ops/creation.js';
import type { ProblemType } from './config.js';

/**
 * Next-token loss: logits [B, T, V] at position t predict labels[t + 1]; -100 is ignored. The labels
 * are shifted (the last position gets -100) rather than the logits, so the logits are not copied.
 */
export function causalLmLoss(logits: Tensor, labels: Tensor): Tensor {
  checkInt('causalLmLoss', 'labels', labels);
  const t = labels.shape[labels.ndim - 1]!;
  const values = labels.data();
  const shifted = Int32Array.from(values, (_, i) => ((i + 1) % t === 0 ? -100 : values[i + 1]!));
  return crossEntropy(logits, fromArray(shifted, labels.shape, 'int32'));
}

/** Plain token-level cross-entropy (token classification, masked LM, seq2seq): logits [..., C]. */
export function tokenLoss(logits: Tensor, labels: Tensor): Tensor {
  const c = logits.shape[logits.ndim - 1]!;
  return crossEntropy(reshape(logits, [-1, c]), reshape(labels, [-1]));
}

/** transformers' rule for choosing the problem type when the config does not set one. */
export function inferProblemType(configured: ProblemType | null, numLabels: number, labels: Tensor): ProblemType {
  if (configured !== null) return configured;
  if (numLabels === 1) return 'regression';
  return labels.dtype === 'int32' ? 'single_label_classification' : 'multi_label_classification';
}

/** Mean BCE-with-logits in its stable form: max(x, 0) − x·z + log(1 + e^{−|x|}). */
function bceWithLogits(x: Tensor, z: Tensor): Tensor {
  return mean(add(sub(relu(x), mul(x, z)), log(add(exp(mul(abs(x), -1)), 1))));
}

/** Sequence classification loss; logits [B, numLabels]. */
export function sequenceClassificationLoss(logits: Tensor, labels: Tensor, numLabels: number, configured: ProblemType | null): Tensor {
  const problem = inferProblemType(configured, numLabels, labels);
  if (problem === 'single_label_classification') return crossEntropy(reshape(logits, [-1, numLabels]), reshape(labels, [-1]));
  const target = labels.dtype === 'float32' ? labels : toDtype(labels, 'float32');
  if (problem === 'multi_label_classification') return bceWithLogits(logits, target);
  const pred = numLabels === 1 ? reshape(logits, [-1]) : logits;
  const want = numLabels === 1 ? reshape(target, [-1]) : target;
  if (pred.size !== want.size) throw new ShapeError('sequenceClassificationLoss', 'labels', `has ${want.size} values for ${pred.size} regression outputs`);
  const diff = sub(pred, want);
  return mean(mul(diff, diff));
}

/**
 * Extractive QA loss: mean of start and end cross-entropies. Positions outside [0, T) are clamped to
 * T, which is then ignored, as transformers does.
 */
export function questionAnsweringLoss(startLogits: Tensor, endLogits: Tensor, startPositions: Tensor, endPositions: Tensor): Tensor {
  const t = startLogits.shape[startLogits.ndim - 1]!;
  const clampPositions = (p: Tensor): Tensor => {
    const values = Int32Array.from(p.data() as Int32Array, (v) => Math.min(Math.max(v, 0), t));
    return fromArray(values, [values.length], 'int32');
  };
  const options = { ignoreIndex: t };
  const startLoss = crossEntropy(reshape(startLogits, [-1, t]), clampPositions(startPositions), options);
  const endLoss = crossEntropy(reshape(endLogits, [-1, t]), clampPositions(endPositions), options);
  return mul(add(startLoss, endLoss), 0.5);
}
