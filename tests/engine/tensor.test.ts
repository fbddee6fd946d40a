import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DisposedTensorError, mul, randn, scope } from '../../src/engine/index.js';

test('a disposed tensor is refused before it reaches native code', () => {
  const x = randn([3]).setRequiresGrad();
  const g = randn([3]);
  g.dispose();
  assert.throws(() => g.view([3]), DisposedTensorError);
  assert.throws(() => g.alias(), DisposedTensorError);
  const y = scope(() => mul(x, 2));
  assert.throws(() => y.backward(g), (e: Error) => e instanceof DisposedTensorError && /backward: argument 'grad'/.test(e.message));
  y.dispose();
  x.dispose();
});
