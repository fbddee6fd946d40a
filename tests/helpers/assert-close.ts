// Element-wise closeness with absolute + relative tolerance, reporting the worst element.
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/engine/index.js';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, label = ''): void {
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 1e-5;
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} vs expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (Number.isNaN(a) !== Number.isNaN(e) || excess > worstExcess || (Number.isNaN(excess) && !Number.isNaN(e))) {
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(`${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

export function assertTensorClose(actual: Tensor, expected: { shape: number[]; data: number[] }, tol: Tolerance = {}, label = ''): void {
  assert.deepEqual([...actual.shape], expected.shape, `${label}: shape`);
  assertClose(actual.toArray(), expected.data, tol, label);
}
