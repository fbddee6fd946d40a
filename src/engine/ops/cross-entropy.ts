// Softmax cross-entropy with integer class targets, as torch.nn.functional.cross_entropy (no class
// weights, no label smoothing), fused: the forward saves only each row's logsumexp (as max and
// log-sum), never the [N, V] log-probabilities, and the backward recomputes the softmax while writing the gradient.
// Logits [..., V] with targets [...] are flattened to [N, V] rows (the language-model layout).
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { EngineError, IndexError, ShapeError } from '../errors.js';
import { formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkInt, checkMinRank, checkOptions } from './check.js';
import { scalar } from './creation.js';

interface CrossEntropyKernels {
  /** Writes per-row losses and (max, log-sum) pairs; returns the sum of the losses. */
  crossEntropyForward(logits: ArrayBuffer, targets: ArrayBuffer, loss: ArrayBuffer, rowStats: ArrayBuffer, n: number, v: number, ignoreIndex: number): number;
  crossEntropyBackward(
    logits: ArrayBuffer, targets: ArrayBuffer, rowStats: ArrayBuffer, grad: ArrayBuffer, gradStride: number, scale: number,
    dx: ArrayBuffer, n: number, v: number, ignoreIndex: number,
  ): void;
}
const kernels = native as unknown as CrossEntropyKernels;

export type LossReduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** Target value whose rows contribute no loss and no gradient (default -100). */
  ignoreIndex?: number;
  /** 'mean' over the non-ignored rows (NaN when all are ignored), 'sum', or 'none' (per row). */
  reduction?: LossReduction;
}

const REDUCTIONS: readonly LossReduction[] = ['mean', 'sum', 'none'];

/** Counts the rows that are not ignored, after checking every other target is a valid class. */
export function countTargets(targets: Int32Array, classes: number, ignoreIndex: number, op = 'crossEntropy'): number {
  let count = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= classes) {
      throw new IndexError(op, 'targets', `row ${i} has target ${t}, expected a class in [0, ${classes}) or ignoreIndex ${ignoreIndex}`);
    }
    count++;
  }
  return count;
}

/** Loss of logits [..., V] against int32 class targets [...]. */
export function crossEntropy(logits: Tensor, targets: Tensor, options?: CrossEntropyOptions): Tensor {
  checkFloat('crossEntropy', 'logits', logits);
  checkInt('crossEntropy', 'targets', targets);
  checkMinRank('crossEntropy', 'logits', logits, 1);
  const given = checkOptions('crossEntropy', options, ['ignoreIndex', 'reduction']);
  const ignoreIndex = given.ignoreIndex ?? -100;
  const reduction = given.reduction ?? 'mean';
  if (!Number.isInteger(ignoreIndex) || ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31) {
    throw new EngineError('crossEntropy', 'ignoreIndex', `must be an int32 integer, got ${String(ignoreIndex)}`);
  }
  if (!REDUCTIONS.includes(reduction)) {
    throw new EngineError('crossEntropy', 'reduction', `must be one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')}, got ${String(reduction)}`);
  }
  const classes = logits.shape[logits.ndim - 1]!;
  const rowShape = logits.shape.slice(0, -1);
  if (classes === 0) throw new ShapeError('crossEntropy', 'logits', `has shape ${formatShape(logits.shape)}: the class dim is empty`);
  if (!sameShape(targets.shape, rowShape)) {
    throw new ShapeError('crossEntropy', 'targets', `has shape ${formatShape(targets.shape)}, expected ${formatShape(rowShape)} (logits ${formatShape(logits.shape)} without the class dim)`);
  }
  const count = countTargets(targets.data() as Int32Array, classes, ignoreIndex);

  const rows = targets.size;
  const loss = Tensor.empty(rowShape);
  const rowStats = Tensor.empty([rows, 2]);
  const total = kernels.crossEntropyForward(logits.buffer, targets.buffer, loss.buffer, rowStats.buffer, rows, classes, ignoreIndex);
  let out: Tensor;
  if (reduction === 'none') {
    out = loss;
  } else {
    out = scalar(reduction === 'mean' ? total / count : total);
    loss.dispose();
  }
  record('crossEntropy', out, [logits], (g, _needs, [xs, ts, stats]) => {
    const dx = Tensor.empty(logits.shape);
    const stride = reduction === 'none' ? 1 : 0;
    const scale = reduction === 'mean' ? 1 / count : 1;
    kernels.crossEntropyBackward(xs!.buffer, ts!.buffer, stats!.buffer, g.buffer, stride, scale, dx.buffer, rows, classes, ignoreIndex);
    return [dx];
  }, [logits, targets, rowStats]);
  rowStats.dispose();
  return out;
}
