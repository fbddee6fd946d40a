import {
  abs, add, clamp, div, exp, gelu, log, maskedFill, mul, neg, pow, relu, rsqrt, sigmoid, silu, sqrt, sub, tanh, where,
  type Tensor,
} from '../../src/engine/index.js';
import { goldenTests } from '../helpers/golden.js';

type A = Record<string, unknown>;
type Binary = (a: Tensor, b: Tensor | number) => Tensor;

const binary = (fn: Binary) => ([a, b]: Tensor[], o: A) => fn(a!, o.b === undefined ? b! : (o.b as number));

const accuracy: Record<string, (x: Tensor) => Tensor> = {
  exp, log, tanh, sigmoid, silu, sqrt, rsqrt,
  gelu: (x) => gelu(x),
  geluTanh: (x) => gelu(x, { approximate: 'tanh' }),
};

goldenTests(
  'elementwise',
  {
    add: binary(add),
    sub: binary(sub),
    mul: binary(mul),
    div: binary(div),
    neg: ([x]) => neg(x!),
    exp: ([x]) => exp(x!),
    log: ([x]) => log(x!),
    sqrt: ([x]) => sqrt(x!),
    rsqrt: ([x]) => rsqrt(x!),
    abs: ([x]) => abs(x!),
    pow: ([x], o: A) => pow(x!, o.exponent as number),
    tanh: ([x]) => tanh(x!),
    sigmoid: ([x]) => sigmoid(x!),
    relu: ([x]) => relu(x!),
    gelu: ([x], o: A) => gelu(x!, { approximate: o.approximate as 'none' | 'tanh' }),
    silu: ([x]) => silu(x!),
    clamp: ([x], o: A) => clamp(x!, { min: o.min as number | undefined, max: o.max as number | undefined }),
    accuracy: ([x], o: A) => accuracy[o.fn as string]!(x!),
    tailAccuracy: ([x], o: A) => accuracy[o.fn as string]!(x!),
    // A branch given as a number in attrs is left out of the inputs.
    where: ([c, ...branches], o: A) => {
      const a = (o.a as number | undefined) ?? branches.shift()!;
      const b = (o.b as number | undefined) ?? branches.shift()!;
      return where(c!, a, b);
    },
    maskedFill: ([x, m], o: A) => maskedFill(x!, m!, o.value as number),
  },
  { atol: 1e-4, rtol: 1e-4 },
  // Relative error over sweeps where every true result is a normal float: a few ulp, and in gelu's
  // far left tail (see tools/fixtures/ops_elementwise.py) under 1e-5.
  { accuracy: { atol: 1e-37, rtol: 2e-6 }, tailAccuracy: { atol: 1e-37, rtol: 1e-5 } },
);
