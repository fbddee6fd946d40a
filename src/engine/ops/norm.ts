// Normalisation over the last dim: layerNorm (torch.nn.functional.layer_norm) and rmsNorm (the
// Llama/T5 RMSNorm). One native kernel serves both; forward saves x and each row's mean (layer
// norm only) and rstd, and backward computes the gradients of x, weight and bias in one pass over
// the rows, skipping those that are not needed.
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { EngineError, ShapeError } from '../errors.js';
import { formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkMinRank } from './check.js';

type Buf = ArrayBuffer | null;

interface NormKernels {
  normForward(x: Buf, weight: Buf, bias: Buf, y: Buf, mean: Buf, rstd: Buf, rows: number, d: number, eps: number, center: boolean): void;
  normBackward(
    g: Buf, x: Buf, weight: Buf, mean: Buf, rstd: Buf, dx: Buf, dweight: Buf, dbias: Buf,
    rows: number, d: number, center: boolean,
  ): void;
}
const kernels = native as unknown as NormKernels;

function checkParam(op: string, arg: string, t: Tensor | null, d: number): Tensor | null {
  if (t === null || t === undefined) return null;
  checkFloat(op, arg, t);
  if (t.ndim !== 1 || t.shape[0] !== d) {
    throw new ShapeError(op, arg, `must have shape [${d}] (the last dim of x), got ${formatShape(t.shape)}`);
  }
  return t;
}

function normalizeRows(op: 'layerNorm' | 'rmsNorm', x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  checkFloat(op, 'x', x);
  checkMinRank(op, 'x', x, 1);
  const d = x.shape[x.ndim - 1]!;
  const w = checkParam(op, 'weight', weight, d);
  const b = checkParam(op, 'bias', bias, d);
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new EngineError(op, 'eps', `must be a finite non-negative number, got ${String(eps)}`);
  }
  const center = op === 'layerNorm';
  const rows = sizeOf(x.shape.slice(0, -1));
  const y = Tensor.empty(x.shape);
  const mean = center ? Tensor.empty([rows]) : null;
  const rstd = Tensor.empty([rows]);
  kernels.normForward(x.buffer, w?.buffer ?? null, b?.buffer ?? null, y.buffer, mean?.buffer ?? null, rstd.buffer, rows, d, eps, center);

  const params = [w, b].filter((t): t is Tensor => t !== null);
  const saved = [x, rstd, ...(mean !== null ? [mean] : []), ...(w !== null ? [w] : [])];
  record(op, y, [x, ...params], (g, needs, [xs, rstds, ...rest]) => {
    const means = center ? rest.shift()! : null;
    const ws = w !== null ? rest.shift()! : null;
    const needW = w !== null && needs[1]!;
    const needB = b !== null && needs[w !== null ? 2 : 1]!;
    const dx = needs[0] ? Tensor.empty(x.shape) : null;
    const dw = needW ? Tensor.empty([d]) : null;
    const db = needB ? Tensor.empty([d]) : null;
    kernels.normBackward(
      g.buffer, xs!.buffer, ws?.buffer ?? null, means?.buffer ?? null, rstds!.buffer,
      dx?.buffer ?? null, dw?.buffer ?? null, db?.buffer ?? null, rows, d, center,
    );
    return [dx, ...(w !== null ? [dw] : []), ...(b !== null ? [db] : [])];
  }, saved);
  mean?.dispose();
  rstd.dispose();
  return y;
}

/**
 * (x - mean) / sqrt(var + eps) · weight + bias over the last dim, with the biased variance, as
 * torch.nn.functional.layer_norm(x, [d], weight, bias, eps). weight and bias are [d] or null.
 */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return normalizeRows('layerNorm', x, weight, bias, eps);
}

/** weight · x / sqrt(mean(x²) + eps) over the last dim (Llama/T5 RMSNorm); weight is [d] or null. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor {
  return normalizeRows('rmsNorm', x, weight, null, eps);
}
