// The affine map of Linear and GPT-2's Conv1D layers: y = x·Wᵀ + b (weight [out, in]) or
// y = x·W + b (weight [in, out], `weightInOut`), its products in affine.ts. x is kept for backward only when the
// weight needs a gradient (a frozen weight's layer keeps nothing of its input alive). A frozen
// weight stored in bfloat16 or float16 is widened inside the product kernel
// (src/native/half_gemm.cc): f32 arithmetic on the rounded weight, half the bytes read; x still
// gets its gradient.
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { isHalf } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFlag, checkFloat, checkMinRank, checkOptions, checkTensor } from './check.js';
import { affineForward, affineInputGradient, affineSizes, biasSeeded, rowsOf } from './affine.js';
import { sumToShape } from './view.js';

type Buf = ArrayBuffer;

interface HalfGemmKernels {
  /** out[M, N] = beta·out + x[M, K]·Wᵀ (W [N, K]) or x·W (`wInOut`: W [K, N]); W bf16 or f16. */
  halfMatmul(x: Buf, w: Buf, out: Buf, m: number, n: number, k: number, wInOut: boolean, bf16: boolean, beta: number): void;
}

const kernels = native as unknown as HalfGemmKernels;

export interface LinearOptions {
  /** Weight stored as [in, out] (transformers' Conv1D, PEFT's fan_in_fan_out) instead of [out, in]. */
  weightInOut?: boolean;
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, options?: LinearOptions): Tensor {
  checkFloat('linear', 'x', x);
  checkTensor('linear', 'weight', weight);
  if (weight.dtype !== 'float32' && !isHalf(weight.dtype)) throw new DTypeError('linear', 'weight', `must be float32, bfloat16 or float16, got ${weight.dtype}`);
  checkMinRank('linear', 'x', x, 1);
  const inOut = checkFlag('linear', 'options.weightInOut', checkOptions('linear', options, ['weightInOut']).weightInOut, false);
  if (weight.ndim !== 2) throw new ShapeError('linear', 'weight', `must be 2-D, got ${formatShape(weight.shape)}`);
  const [inF, outF] = affineSizes(weight, inOut);
  if (x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError('linear', 'x', `last dim ${x.shape[x.ndim - 1]} does not match weight ${formatShape(weight.shape)} (in_features ${inF})`);
  }
  if (bias !== null) {
    checkFloat('linear', 'bias', bias);
    if (bias.ndim !== 1 || bias.shape[0] !== outF) throw new ShapeError('linear', 'bias', `must have shape [${outF}], got ${formatShape(bias.shape)}`);
  }
  const rows = rowsOf(x.shape);
  if (isHalf(weight.dtype)) return halfLinear(x, weight, rows, inF, outF, inOut, bias);
  const out = affineForward(x, weight, bias, inOut);

  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record(
    'linear',
    out,
    inputs,
    (g, needs, [sw, sx]) => {
      const g2 = g.view([rows, outF]);
      const gx = needs[0] ? affineInputGradient(g2, sw!, x.shape, inOut) : null;
      let gw: Tensor | null = null;
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

/** linear with a 16-bit weight (never trainable). */
function halfLinear(x: Tensor, weight: Tensor, rows: number, inF: number, outF: number, inOut: boolean, bias: Tensor | null): Tensor {
  const bf16 = weight.dtype === 'bfloat16';
  const out = biasSeeded(x, bias, outF);
  kernels.halfMatmul(x.buffer, weight.buffer, out.buffer, rows, outF, inF, inOut, bf16, bias === null ? 0 : 1);
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record(
    'linear',
    out,
    inputs,
    (g, needs, [sw]) => {
      let gx: Tensor | null = null;
      if (needs[0]) {
        // x's gradient g·W reads the weight the other way round: [out, in] as [K, N] and vice versa.
        gx = Tensor.empty(x.shape);
        kernels.halfMatmul(g.buffer, sw!.buffer, gx.buffer, rows, inF, outF, !inOut, bf16, 0);
      }
      return [gx, null, needs[2] ? sumToShape(g.view([rows, outF]), [outF]) : null];
    },
    [weight],
  );
}
