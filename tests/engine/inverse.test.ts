// inverse: batched matrix inverses (A·A⁻¹ = I, pivoting past a zero on the diagonal), singular matrices refused by
// name; its gradient is checked against PEFT's through OFT's exact Cayley rotations (tests/peft/oft.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, inverse, matmul } from '../../src/engine/index.js';
import { EngineError, ShapeError } from '../../src/engine/errors.js';

test('inverse: a batch of matrices, one needing a row swap, times their inverses gives the identity', () => {
  const a = fromArray([0, 2, 1, 1, 3, 0, 0, 1, 1, 4, -2, 0.5, 1, 3, 1, 0, 2, 5], [2, 3, 3]);
  const product = matmul(a, inverse(a)).toArray();
  const eye = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let i = 0; i < product.length; i++) assert.ok(Math.abs(product[i]! - eye[i % 9]!) < 1e-6, `entry ${i}: ${product[i]}`);
});

test('inverse: singular and non-square matrices are refused', () => {
  assert.throws(() => inverse(fromArray([1, 2, 2, 4], [2, 2])), (e: unknown) => e instanceof EngineError && /singular/.test(e.message));
  assert.throws(() => inverse(fromArray([1, 2, 3, 4, 5, 6], [2, 3])), ShapeError);
});
