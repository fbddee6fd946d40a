// The shared shape of one-input pointwise ops: a forward kernel and a one-pass gradient kernel
// that reads the op's saved input or output, both over contiguous f32 buffers.
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { nativeKernel } from './native-kernel.js';

type Buf = ArrayBuffer;

/** forward(x, out, n, ...params): out = f(x). */
export type PointwiseKernel = (x: Buf, out: Buf, n: number, ...params: number[]) => void;
/** grad(saved, g, gx, n, ...params): gx = g · f'(x), from the saved input x or output f(x). */
export type PointwiseGradKernel = (saved: Buf, g: Buf, gx: Buf, n: number, ...params: number[]) => void;

export interface PointwiseOp {
  name: string;
  forward: PointwiseKernel;
  grad: PointwiseGradKernel;
  /** Which tensor the gradient kernel reads. */
  saves: 'input' | 'output';
}

/** Binds op `name` to the addon's kernels `kernel` and `${kernel}Grad`. */
export function pointwiseOp(name: string, kernel: string, saves: 'input' | 'output'): PointwiseOp {
  return { name, forward: nativeKernel(kernel), grad: nativeKernel(`${kernel}Grad`), saves };
}


export function applyPointwise(op: PointwiseOp, x: Tensor, ...params: number[]): Tensor {
  checkFloat(op.name, 'x', x);
  const out = Tensor.empty(x.shape);
  if (x.size > 0) op.forward(x.buffer, out.buffer, x.size, ...params);
  return record(
    op.name,
    out,
    [x],
    (g, _needs, [saved]) => {
      const gx = Tensor.empty(x.shape);
      if (g.size > 0) op.grad(saved!.buffer, g.buffer, gx.buffer, g.size, ...params);
      return [gx];
    },
    [op.saves === 'input' ? x : out],
  );
}
