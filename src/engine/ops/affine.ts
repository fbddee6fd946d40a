// The float32 products of an affine map y = x·Wᵀ + b (weight [out, in]) or x·W + b (`inOut`, weight
// [in, out]) that linear and the fused LoRA layer (src/peft/tuners/lora/fused-linear.ts) share,
// without a graph node: the forward, where the bias rows seed the GEMM output so the bias add
// costs no extra pass, and the input gradient g·W (g·Wᵀ).
import { native } from '../../native/binding.js';
import { type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/** [in, out] of a 2-D weight. */
export function affineSizes(weight: Tensor, inOut: boolean): [number, number] {
  return inOut ? (weight.shape as [number, number]) : [weight.shape[1]!, weight.shape[0]!];
}

/** The rows of a [..., features] shape (counted without dividing by features, which may be 0). */
export function rowsOf(shape: Shape): number {
  return sizeOf(shape.slice(0, -1));
}

/** A new [..., out] tensor seeded with the bias rows (or uninitialised without a bias). */
export function biasSeeded(x: Tensor, bias: Tensor | null, outF: number): Tensor {
  const out = Tensor.empty([...x.shape.slice(0, -1), outF]);
  if (bias !== null) native.repeatRows(out.buffer, bias.buffer, rowsOf(out.shape), outF);
  return out;
}

/** x·Wᵀ + b (x·W + b with inOut) for a float32 weight. */
export function affineForward(x: Tensor, weight: Tensor, bias: Tensor | null, inOut: boolean): Tensor {
  const [inF, outF] = affineSizes(weight, inOut);
  const out = biasSeeded(x, bias, outF);
  native.matmul(x.buffer, 0, weight.buffer, 0, out.buffer, 0, 1, rowsOf(x.shape), outF, inF, false, !inOut, 1, bias === null ? 0 : 1, 0, 0, 0);
  return out;
}

/** g·W (g·Wᵀ with inOut), shaped like the input x: the input gradient of the affine map. */
export function affineInputGradient(g: Tensor, weight: Tensor, xShape: Shape, inOut: boolean): Tensor {
  const [inF, outF] = affineSizes(weight, inOut);
  const gx = Tensor.empty(xShape);
  native.matmul(g.buffer, 0, weight.buffer, 0, gx.buffer, 0, 1, rowsOf(xShape), inF, outF, false, inOut, 1, 0, 0, 0, 0);
  return gx;
}
