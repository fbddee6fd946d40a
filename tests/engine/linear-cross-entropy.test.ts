import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossEntropy, fromArray, linear, linearCrossEntropy, noGrad, randn, scope, ShapeError, type Tensor } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';

const targets = (values: number[]) => fromArray(Int32Array.from(values), [values.length], 'int32');

/** Loss and gradients of x and w through fn(x, w), on fresh leaves of the given values. */
function lossAndGrads(x0: Tensor, w0: Tensor, fn: (x: Tensor, w: Tensor) => Tensor, upstream = 1) {
  return scope(() => {
    const x = x0.detach().setRequiresGrad();
    const w = w0.detach().setRequiresGrad();
    const loss = fn(x, w);
    loss.backward(fromArray([upstream], []));
    const out = { loss: loss.item(), gx: x.grad!.toArray(), gw: w.grad!.toArray() };
    x.zeroGrad();
    w.zeroGrad();
    return out;
  });
}

test('linearCrossEntropy equals crossEntropy(linear(x, w)): loss and both gradients, over several chunks, with ignored rows', () => {
  scope(() => {
    const [n, e, v] = [37, 24, 101];
    const x = randn([n, e]);
    const w = randn([v, e], { std: 0.5 });
    const labels = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? -100 : (i * 31) % v));
    for (const reduction of ['mean', 'sum'] as const) {
      for (const chunkRows of [5, 16, 64]) {
        const fused = lossAndGrads(x, w, (a, b) => linearCrossEntropy(a, b, targets(labels), { reduction, chunkRows }), 0.5);
        const plain = lossAndGrads(x, w, (a, b) => crossEntropy(linear(a, b), targets(labels), { reduction }), 0.5);
        const label = `${reduction}, ${chunkRows} rows per chunk`;
        assert.ok(Math.abs(fused.loss - plain.loss) <= 1e-5 * Math.abs(plain.loss), `${label}: loss ${fused.loss} vs ${plain.loss}`);
        assertClose(fused.gx, plain.gx, { atol: 1e-6, rtol: 1e-4 }, `${label}: grad x`);
        assertClose(fused.gw, plain.gw, { atol: 1e-6, rtol: 1e-4 }, `${label}: grad w`);
      }
    }
  });
});

test('linearCrossEntropy computes no gradients under noGrad or for inputs that do not require grad', () => {
  scope(() => {
    const x = randn([8, 4]);
    const w = randn([10, 4]).setRequiresGrad();
    const t = targets([0, 1, 2, 3, 4, 5, 6, 7]);
    const plain = crossEntropy(linear(x, w.detach()), t).item();
    const loss = noGrad(() => linearCrossEntropy(x, w, t));
    assert.equal(loss.requiresGrad, false);
    assert.ok(Math.abs(loss.item() - plain) < 1e-6);
    const onlyW = linearCrossEntropy(x, w, t);
    onlyW.backward();
    assert.deepEqual(w.grad!.shape, [10, 4]);
    assert.equal(x.grad, null);
    w.zeroGrad();
  });
});

test('linearCrossEntropy checks its arguments', () => {
  scope(() => {
    const x = randn([3, 4]);
    const w = randn([5, 4]);
    assert.throws(() => linearCrossEntropy(x, randn([5, 3]), targets([0, 1, 2])), ShapeError);
    assert.throws(() => linearCrossEntropy(x, w, targets([0, 1])), /must have shape \[3\]/);
    assert.throws(() => linearCrossEntropy(x, w, targets([0, 1, 5])), /row 2 has target 5/);
    assert.throws(() => linearCrossEntropy(x, w, targets([0, 1, 2]), { chunkRows: 0 }), /chunkRows/);
  });
});
