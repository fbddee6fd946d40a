// crossEntropy(linear(x, weight), targets) without the [N, V] logits: the native kernel forms the
// logits a chunk of rows at a time and, when a gradient will be needed, turns each chunk straight
// into the gradients of x and weight. A language-model head over a 50k vocabulary then needs at most
// a 256 MiB scratch instead of the [N, V] logits, their copy for the loss and the logits' gradient.
import { native } from '../../native/binding.js';
import { isGradEnabled, record } from '../autograd.js';
import { EngineError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkInt, checkOptions } from './check.js';
import { scalar } from './creation.js';
import { countTargets } from './cross-entropy.js';
import { mul } from './binary.js';

interface LinearCrossEntropyKernel {
  linearCrossEntropy(
    x: ArrayBuffer, weight: ArrayBuffer, targets: ArrayBuffer, loss: ArrayBuffer, scratch: ArrayBuffer, dx: ArrayBuffer | null, dweight: ArrayBuffer | null,
    n: number, e: number, v: number, chunk: number, ignoreIndex: number, scale: number,
  ): number;
}
const kernels = native as unknown as LinearCrossEntropyKernel;

const OP = 'linearCrossEntropy';

/** Logit elements per chunk at most: 256 MiB of scratch. */
const CHUNK_ELEMENTS = 1 << 26;

/**
 * Rows per chunk: as few chunks as the scratch allows, of equal height in multiples of 16 rows.
 * Both products read all of the weight for every chunk, so taller chunks run them faster (1024 rows
 * instead of 336 took 5-10% off the loss of a 49k-50k vocabulary on 2 cores), and a short last chunk
 * would pay that read for a few rows.
 */
function defaultChunkRows(n: number, v: number): number {
  const most = Math.max(16, Math.floor(CHUNK_ELEMENTS / v / 16) * 16);
  const chunks = Math.max(1, Math.ceil(n / most));
  return Math.max(16, Math.ceil(n / chunks / 16) * 16);
}

export interface LinearCrossEntropyOptions {
  /** Target value whose rows contribute no loss and no gradient (default -100). */
  ignoreIndex?: number;
  /** 'mean' over the non-ignored rows (NaN when all are ignored) or 'sum'. */
  reduction?: 'mean' | 'sum';
  /** Rows of logits formed at a time (default: equal chunks of at most 256 MiB, a multiple of 16 rows). */
  chunkRows?: number;
}

/**
 * crossEntropy(x·weightᵀ, targets) for x [N, E], weight [V, E] (an nn.Linear weight without bias)
 * and int32 targets [N]; a scalar. The gradients are computed with the loss when x or weight
 * requires grad and grad mode is on, so backward only scales them.
 */
export function linearCrossEntropy(x: Tensor, weight: Tensor, targets: Tensor, options?: LinearCrossEntropyOptions): Tensor {
  checkFloat(OP, 'x', x);
  checkFloat(OP, 'weight', weight);
  checkInt(OP, 'targets', targets);
  const given = checkOptions(OP, options, ['ignoreIndex', 'reduction', 'chunkRows']);
  const ignoreIndex = given.ignoreIndex ?? -100;
  const reduction = given.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new EngineError(OP, 'reduction', `must be 'mean' or 'sum', got ${String(reduction)}`);
  if (!Number.isInteger(ignoreIndex)) throw new EngineError(OP, 'ignoreIndex', `must be an integer, got ${String(ignoreIndex)}`);
  if (x.ndim !== 2) throw new ShapeError(OP, 'x', `must be 2-D [N, E], got ${formatShape(x.shape)}`);
  if (weight.ndim !== 2 || weight.shape[1] !== x.shape[1] || weight.shape[0] === 0) {
    throw new ShapeError(OP, 'weight', `must be [V, ${x.shape[1]}] with V > 0, got ${formatShape(weight.shape)}`);
  }
  const [n, e] = x.shape as [number, number];
  const v = weight.shape[0]!;
  if (targets.ndim !== 1 || targets.shape[0] !== n) throw new ShapeError(OP, 'targets', `must have shape [${n}], got ${formatShape(targets.shape)}`);
  const count = countTargets(targets.data() as Int32Array, v, ignoreIndex, OP);

  const grads = isGradEnabled() && (x.requiresGrad || weight.requiresGrad);
  const dx = grads && x.requiresGrad ? Tensor.empty(x.shape) : null;
  const dw = grads && weight.requiresGrad ? Tensor.empty(weight.shape, 'float32', true) : null;
  const chunkRows = given.chunkRows ?? defaultChunkRows(n, v);
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new EngineError(OP, 'chunkRows', `must be a positive integer, got ${String(chunkRows)}`);
  const chunk = Math.max(1, Math.min(n, chunkRows));
  const loss = Tensor.empty([n]);
  const scratch = Tensor.empty([chunk, v]);
  const scale = reduction === 'mean' ? 1 / count : 1;
  const total = kernels.linearCrossEntropy(x.buffer, weight.buffer, targets.buffer, loss.buffer, scratch.buffer, dx?.buffer ?? null, dw?.buffer ?? null, n, e, v, chunk, ignoreIndex, scale);
  scratch.dispose();
  loss.dispose();
  const out = scalar(reduction === 'mean' ? total / count : total);
  if (!grads) return out;
  const saved = [dx, dw].filter((t): t is Tensor => t !== null);
  record(OP, out, [x, weight], (g, needs, kept) => {
    const upstream = g.item();
    const pick = (t: Tensor | null, need: boolean) => {
      if (t === null || !need) return null;
      const own = kept[saved.indexOf(t)]!;
      return upstream === 1 ? own.view(own.shape) : mul(own, upstream);
    };
    return [pick(dx, needs[0]!), pick(dw, needs[1]!)];
  }, saved);
  for (const t of saved) t.dispose();
  return out;
}
