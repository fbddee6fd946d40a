// applyRotary on [B, T, H, D] input (inputLayout 'bthd') equals the head permute followed by the
// [B, H, T, D] rotation, forward and backward, tables included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRotary, arange, Generator, mul, permute, randn, rotaryCosSin, scope, ShapeError, sum, zeros } from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';

const TOL = { atol: 1e-6, rtol: 1e-6 };

for (const batchedTable of [false, true]) {
  test(`bthd input matches permute + rotate (${batchedTable ? '[B, T, D]' : '[T, D]'} tables)`, () => {
    scope(() => {
      const [B, T, H, D] = [2, 5, 3, 8];
      const gen = new Generator(11);
      const x = randn([B, T, H, D], { generator: gen }).setRequiresGrad();
      const positions = batchedTable ? arange(0, B * T, { dtype: 'int32' }).view([B, T]) : arange(3, 3 + T, { dtype: 'int32' });
      const { cos, sin } = rotaryCosSin(positions, { dim: D, theta: 100 });
      cos.setRequiresGrad();
      sin.setRequiresGrad();
      const weights = randn([B, H, T, D], { generator: gen });
      const fused = applyRotary(x, cos, sin, { inputLayout: 'bthd' });
      sum(mul(fused, weights)).backward();
      const grads = [x, cos, sin].map((t) => t.grad!.toArray());
      for (const t of [x, cos, sin]) t.zeroGrad();
      const plain = applyRotary(permute(x, [0, 2, 1, 3]), cos, sin);
      sum(mul(plain, weights)).backward();
      assertClose(fused.toArray(), plain.toArray(), TOL, 'forward');
      ['x', 'cos', 'sin'].forEach((name, i) => assertClose(grads[i]!, [x, cos, sin][i]!.grad!.toArray(), TOL, `grad ${name}`));
    });
  });
}

test('inputLayout is checked', () => {
  const table = zeros([4, 6]);
  assert.throws(() => applyRotary(zeros([2, 4, 3, 6]), table, table, { inputLayout: 'tbhd' as 'bthd' }), ShapeError);
  assert.throws(() => applyRotary(zeros([2, 3, 4, 6]), table, table, { inputLayout: 'bthd' }), /'cos'.*\[4, 6\]|must be \[3, 6\]/);
});
