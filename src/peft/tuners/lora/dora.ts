// DoRA (weight-decomposed LoRA, PEFT's dora.py): a trainable magnitude per output feature that rescales the
// adapted weight W + s·B·A to the norm it learns. The norm is recomputed from the weights on every forward and kept
// out of the graph, as the paper (section 4.3) and PEFT do, so only the magnitude gets its gradient through it.
import { noGrad } from '../../../engine/autograd.js';
import { scope } from '../../../engine/scope.js';
import { mul } from '../../../engine/ops/binary.js';
import { sum } from '../../../engine/ops/reduce.js';
import { sqrt } from '../../../engine/ops/unary.js';
import type { Tensor } from '../../../engine/tensor.js';
import { Module } from '../../../nn/module.js';
import { addProductInto, cloneTensor } from './low-rank.js';

/** `lora_magnitude_vector.<adapter>`: the magnitude as parameter `weight` [out] (PEFT's DoraLinearLayer). */
export class DoraLayer extends Module {
  constructor(magnitude: Tensor) {
    super();
    this.registerParameter('weight', magnitude);
  }

  get weight(): Tensor {
    return this.parameter('weight')!;
  }
}

/**
 * ‖W + scaling·B·A‖ for every output feature (rows of an [out, in] weight, columns of an [in, out] one), with no
 * gradient. A [r, in], B [out, r].
 */
export function doraWeightNorm(W: Tensor, A: Tensor, B: Tensor, scaling: number, inOut: boolean): Tensor {
  return noGrad(() =>
    scope(() => {
      const adapted = cloneTensor(W);
      addProductInto(adapted, A, B, scaling, inOut);
      return sqrt(sum(mul(adapted, adapted), { axis: inOut ? 0 : 1 }));
    }),
  );
}
