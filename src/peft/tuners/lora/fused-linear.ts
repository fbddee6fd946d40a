// A LoRA adapter on a frozen Linear / Conv1D as one graph node: y = x·W + b + s·(x·Aᵀ)·Bᵀ. The base
// product goes through oneDNN; the thin adapter products through the row kernels of
// src/native/lora.cc, which add s·h·Bᵀ into y in place and, in backward, add gh·A straight into the
// base layer's input gradient (no second [M, in] tensor to sum) while forming gA and gB in the
// same pass. The composition it replaces: addLowRank(linear(x, W, b), linear(x, A), B, s).
import { record } from '../../../engine/autograd.js';
import { EngineError } from '../../../engine/errors.js';
import { affineForward, affineInputGradient, affineSizes, rowsOf } from '../../../engine/ops/affine.js';
import { Tensor } from '../../../engine/tensor.js';
import { native } from '../../../native/binding.js';

type Buf = ArrayBuffer;

interface LoraKernels {
  loraDown(x: Buf, A: Buf, h: Buf, m: number, k: number, r: number): void;
  loraUp(h: Buf, B: Buf, y: Buf, m: number, n: number, r: number, scale: number): void;
  loraBackward(
    g: Buf, x: Buf, A: Buf, B: Buf, h: Buf, gx: Buf | null, gA: Buf | null, gB: Buf | null,
    m: number, n: number, k: number, r: number, scale: number,
  ): void;
}

const kernels = native as unknown as LoraKernels;

/** Largest rank the fused kernels take (lora_rows.h); beyond it the adapter products are ordinary GEMMs. */
export const FUSED_MAX_RANK = 64;

/**
 * x [..., in] through a frozen float32 weight (W [out, in], or [in, out] with `weightInOut`) and bias, plus
 * scale·(x·Aᵀ)·Bᵀ for A [r, in], B [out, r]. Gradients reach x, A and B. The caller has checked the shapes (they
 * are a LoRA layer's) and that weight and bias are frozen.
 */
export function loraLinear(x: Tensor, weight: Tensor, bias: Tensor | null, A: Tensor, B: Tensor, scale: number, weightInOut: boolean): Tensor {
  if (weight.requiresGrad || bias?.requiresGrad) throw new EngineError('loraLinear', 'weight', 'must be frozen; use linear and addLowRank to train it');
  if (A.shape[0]! > FUSED_MAX_RANK) throw new EngineError('loraLinear', 'A', `rank ${A.shape[0]} is above ${FUSED_MAX_RANK}`);
  const [inF, outF] = affineSizes(weight, weightInOut);
  const r = A.shape[0]!;
  const rows = rowsOf(x.shape);
  const out = affineForward(x, weight, bias, weightInOut);
  const h = Tensor.empty([rows, r]);
  kernels.loraDown(x.buffer, A.buffer, h.buffer, rows, inF, r);
  kernels.loraUp(h.buffer, B.buffer, out.buffer, rows, outF, r, scale);
  record(
    'loraLinear',
    out,
    [x, A, B],
    (g, [needX, needA, needB], [sx, sw, sA, sB, sh]) => {
      const gx = needX ? affineInputGradient(g, sw!, x.shape, weightInOut) : null;
      const gA = needA ? Tensor.empty(A.shape) : null;
      const gB = needB ? Tensor.empty(B.shape) : null;
      kernels.loraBackward(
        g.buffer, sx!.buffer, sA!.buffer, sB!.buffer, sh!.buffer, gx?.buffer ?? null, gA?.buffer ?? null, gB?.buffer ?? null,
        rows, outF, inF, r, scale,
      );
      return [gx, gA, gB];
    },
    [x, weight, A, B, h],
  );
  h.dispose();
  return out;
}
