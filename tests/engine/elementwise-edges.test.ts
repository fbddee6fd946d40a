// IEEE edge values (which JSON fixtures cannot hold): infinities, NaN, signed zero, and the ends
// of the float range, against the values the functions take there mathematically (as libm/torch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abs, clamp, exp, fromArray, gelu, log, relu, rsqrt, sigmoid, silu, sqrt, type Tensor, tanh } from '../../src/engine/index.js';

const { POSITIVE_INFINITY: inf, NaN: nan } = Number;

function check(name: string, fn: (x: Tensor) => Tensor, cases: [number, number][]): void {
  const out = fn(fromArray(cases.map(([x]) => x))).toArray();
  cases.forEach(([x, want], i) => {
    assert.ok(Object.is(out[i], want) || out[i] === want, `${name}(${x}) = ${out[i]}, expected ${want}`);
  });
}

test('exp and log at the ends of the float range', () => {
  check('exp', exp, [[inf, inf], [-inf, 0], [nan, nan], [0, 1], [89, inf], [-104, 0], [-103, Math.fround(Math.exp(-103))]]);
  check('log', log, [[0, -inf], [-0, -inf], [-1, nan], [inf, inf], [-inf, nan], [nan, nan], [1, 0], [1e-45, Math.fround(Math.log(Math.fround(1e-45)))]]);
  check('sqrt', sqrt, [[inf, inf], [-1, nan], [0, 0], [nan, nan]]);
  check('rsqrt', rsqrt, [[inf, 0], [0, inf], [-1, nan], [nan, nan]]);
});

test('activations saturate at infinity and propagate NaN', () => {
  check('tanh', tanh, [[inf, 1], [-inf, -1], [nan, nan], [50, 1], [-50, -1]]);
  check('sigmoid', sigmoid, [[inf, 1], [-inf, 0], [nan, nan], [0, 0.5], [-200, 0]]);
  check('silu', silu, [[inf, inf], [nan, nan], [-200, -0]]);
  check('gelu', (x) => gelu(x), [[inf, inf], [nan, nan], [0, 0], [-40, -0]]);
  check('gelu tanh', (x) => gelu(x, { approximate: 'tanh' }), [[inf, inf], [nan, nan], [0, 0], [-40, -0]]);
  check('relu', relu, [[nan, nan], [-inf, 0], [inf, inf], [-2, 0]]);
  check('abs', abs, [[-inf, inf], [nan, nan], [-0, 0]]);
});

test('clamp keeps NaN and treats min > max as max', () => {
  check('clamp', (x) => clamp(x, { min: -1, max: 1 }), [[nan, nan], [-inf, -1], [inf, 1], [0.5, 0.5]]);
  check('clamp', (x) => clamp(x, { min: 2, max: 1 }), [[0, 1], [5, 1], [1.5, 1]]);
});
