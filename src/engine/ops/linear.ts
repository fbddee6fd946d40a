// The affine map of Linear and GPT-2's Conv1D layers: y = x·Wᵀ + b (weight [out, in]) or
// y = x·W + b (weight [in, out], `weightInOut`). The bias seeds the GEMM output and the product is
// accumulated onto it, so the bias add costs no extra pass. x is kept for backward only when the
// weight needs a gradient (a frozen weight's layer keeps nothing of its input alive).
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { ShapeError } from '../errors.js';
import { formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkMinRank } from './check.js';
import { sumToShape } from './view.js';

export interface LinearOptions {
  /** Weight stored as [in, out] (transformers' Conv1D, PEFT's fan_in_fan_out) instead of [out, in]. */
  weightInOut?: boolean;
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: LinearOptions = {}): Tensor {
  checkFloat('linear', 'x', x);
  checkFloat('linear', 'weight', weight);
  checkMinRank('linear', 'x', x, 1);
  const inOut = options.weightInOut ?? false;
  if (weight.ndim !== 2) throw new ShapeError('linear', 'weight', `must be 2-D, got ${formatShape(weight.shape)}`);
  const [inF, outF] = inOut ? (weight.shape as [number, number]) : [weight.shape[1]!, weight.shape[0]!];
  if (x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError('linear', 'x', `last dim ${x.shape[x.ndim - 1]} does not match weight ${formatShape(weight.shape)} (in_features ${inF})`);
  }
  if (bias !== null) {
    checkFloat('linear', 'bias', bias);
    if (bias.ndim !== 1 || bias.shape[0] !== outF) throw new ShapeError('linear', 'bias', `must have shape [${outF}], got ${formatShape(bias.shape)}`);
  }
  const rows = sizeOf(x.shape) / inF;
  const out = Tensor.empty([...x.shape.slice(0, -1), outF]);
  if (bias !== null) native.repeatRows(out.buffer, bias.buffer, rows, outF);
  native.matmul(x.buffer, 0, weight.buffer, 0, out.buffer, 0, 1, rows, outF, inF, false, !inOut, 1, bias === null ? 0 : 1, 0, 0, 0);

  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record(
    'linear',
    out,
    inputs,
    (g, needs, [sw, sx]) => {
      const g2 = g.view([rows, outF]);
      let gx: Tensor | null = null;
      let gw: Tensor | null = null;
      if (needs[0]) {
        gx = Tensor.empty(x.shape);
        native.matmul(g2.buffer, 0, sw!.buffer, 0, gx.buffer, 0, 1, rows, inF, outF, false, inOut, 1, 0, 0, 0, 0);
      }
      if (needs[1]) {
        gw = Tensor.empty(weight.shape);
        if (inOut) native.matmul(sx!.buffer, 0, g2.buffer, 0, gw.buffer, 0, 1, inF, outF, rows, true, false, 1, 0, 0, 0, 0);
        else native.matmul(g2.buffer, 0, sx!.buffer, 0, gw.buffer, 0, 1, outF, inF, rows, true, false, 1, 0, 0, 0, 0);
      }
      const gb = needs[2] ? sumToShape(g2, [outF]) : null;
      return [gx, gw, gb];
    },
    weight.requiresGrad ? [weight, x] : [weight],
  );
}
