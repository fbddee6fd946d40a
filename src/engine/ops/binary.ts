// Arithmetic with NumPy broadcasting: add, sub, mul, div of a tensor with a tensor or a number.
// The backward reduces each gradient to its input's shape and skips inputs that need none.
import { record } from '../autograd.js';
import { DTypeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { planBroadcast } from './broadcast.js';
import { nativeKernel } from './native-kernel.js';
import { neg } from './unary.js';
import { sumToShape } from './view.js';

type Buf = ArrayBuffer;
/** (a, b, out, dims, strides) over a plan from planBroadcast. */
type BroadcastKernel = (a: Buf, b: Buf, out: Buf, dims: Int32Array, strides: Int32Array) => void;
/** (a, out, n, s): out = a op s. */
type ScalarKernel = (a: Buf, out: Buf, n: number, s: number) => void;

interface Kernels {
  tensor: BroadcastKernel;
  scalar: ScalarKernel;
}

function kernels(name: string): Kernels {
  return { tensor: nativeKernel(`binary${name}`), scalar: nativeKernel(`binary${name}Scalar`) };
}

const ADD = kernels('Add');
const SUB = kernels('Sub');
const MUL = kernels('Mul');
const DIV = kernels('Div');

function forwardScalar(op: string, k: Kernels, a: Tensor, s: number): Tensor {
  checkFloat(op, 'a', a);
  const out = Tensor.empty(a.shape);
  if (a.size > 0) k.scalar(a.buffer, out.buffer, a.size, s);
  return out;
}

function forwardTensor(op: string, k: Kernels, a: Tensor, b: Tensor): Tensor {
  checkFloat(op, 'a', a);
  if (b === null || typeof b !== 'object' || (b as { isTensor?: boolean }).isTensor !== true) {
    throw new DTypeError(op, 'b', `must be a Tensor or a number, got ${b === null ? 'null' : typeof b}`);
  }
  checkFloat(op, 'b', b);
  const plan = planBroadcast(op, [['a', a.shape], ['b', b.shape]]);
  const out = Tensor.empty(plan.shape);
  if (plan.size > 0) k.tensor(a.buffer, b.buffer, out.buffer, plan.dims, plan.strides);
  return out;
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    return record('add', forwardScalar('add', ADD, a, b), [a], (g) => [sumToShape(g, a.shape)]);
  }
  return record('add', forwardTensor('add', ADD, a, b), [a, b], (g, [needA, needB]) => [
    needA ? sumToShape(g, a.shape) : null,
    needB ? sumToShape(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    return record('sub', forwardScalar('sub', SUB, a, b), [a], (g) => [sumToShape(g, a.shape)]);
  }
  return record('sub', forwardTensor('sub', SUB, a, b), [a, b], (g, [needA, needB]) => [
    needA ? sumToShape(g, a.shape) : null,
    needB ? neg(sumToShape(g, b.shape)) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    return record('mul', forwardScalar('mul', MUL, a, b), [a], (g) => [mul(g, b)]);
  }
  return record(
    'mul',
    forwardTensor('mul', MUL, a, b),
    [a, b],
    (g, [needA, needB], [sa, sb]) => [
      needA ? sumToShape(mul(g, sb!), a.shape) : null,
      needB ? sumToShape(mul(g, sa!), b.shape) : null,
    ],
    [a, b],
  );
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    return record('div', forwardScalar('div', DIV, a, b), [a], (g) => [div(g, b)]);
  }
  const out = forwardTensor('div', DIV, a, b);
  // d(a/b)/db = -a/b² = -(1/b)·out, so both gradients start from g/b.
  return record(
    'div',
    out,
    [a, b],
    (g, [needA, needB], [sb, so]) => {
      const q = div(g, sb!);
      return [needA ? sumToShape(q, a.shape) : null, needB ? neg(sumToShape(mul(q, so!), b.shape)) : null];
    },
    [b, out],
  );
}
