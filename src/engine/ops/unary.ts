// Pointwise math: neg, exp, log, sqrt, rsqrt, abs, pow (scalar exponent), clamp. Domain errors
// follow IEEE like PyTorch: log of a negative is NaN, sqrt(0)'s gradient is inf.
import { record } from '../autograd.js';
import { EngineError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { checkNumber } from './check-number.js';
import { nativeKernel } from './native-kernel.js';
import { applyPointwise, type PointwiseKernel, pointwiseOp } from './pointwise.js';

const unaryNeg = nativeKernel<PointwiseKernel>('unaryNeg');

const EXP = pointwiseOp('exp', 'unaryExp', 'output');
const LOG = pointwiseOp('log', 'unaryLog', 'input');
const SQRT = pointwiseOp('sqrt', 'unarySqrt', 'output');
const RSQRT = pointwiseOp('rsqrt', 'unaryRsqrt', 'output');
const ABS = pointwiseOp('abs', 'unaryAbs', 'input');
const POW = pointwiseOp('pow', 'unaryPow', 'input');
const CLAMP = pointwiseOp('clamp', 'unaryClamp', 'input');

export function neg(x: Tensor): Tensor {
  checkFloat('neg', 'x', x);
  const out = Tensor.empty(x.shape);
  if (x.size > 0) unaryNeg(x.buffer, out.buffer, x.size);
  return record('neg', out, [x], (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  return applyPointwise(EXP, x);
}

export function log(x: Tensor): Tensor {
  return applyPointwise(LOG, x);
}

export function sqrt(x: Tensor): Tensor {
  return applyPointwise(SQRT, x);
}

/** 1/√x */
export function rsqrt(x: Tensor): Tensor {
  return applyPointwise(RSQRT, x);
}

/** |x|; the gradient at 0 is 0. */
export function abs(x: Tensor): Tensor {
  return applyPointwise(ABS, x);
}

/** x ** exponent for a number exponent; exponents 0, ±1, 2, 3, ±½, -2 take exact fast paths. */
export function pow(x: Tensor, exponent: number): Tensor {
  return applyPointwise(POW, x, checkNumber('pow', 'exponent', exponent));
}

export interface ClampOptions {
  min?: number;
  max?: number;
}

/**
 * Limits x to [min, max] (either may be left out; min > max gives max everywhere). The gradient
 * passes where min <= x <= max, bounds included, and is 0 elsewhere, as in PyTorch.
 */
export function clamp(x: Tensor, options: ClampOptions): Tensor {
  const { min, max } = options ?? {};
  if (min === undefined && max === undefined) throw new EngineError('clamp', 'options', 'must give min, max or both');
  const lo = min === undefined ? -Infinity : checkNumber('clamp', 'min', min);
  const hi = max === undefined ? Infinity : checkNumber('clamp', 'max', max);
  return applyPointwise(CLAMP, x, lo, hi);
}
