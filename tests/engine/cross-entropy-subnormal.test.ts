// The logit gradients of both cross-entropy kernels feed GEMMs, where a subnormal operand costs a
// microcode assist per multiply-add: entries that would be subnormal must come out as exactly 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossEntropy, fromArray, linearCrossEntropy, scope } from '../../src/index.js';

const FLT_MIN = 2 ** -126;
const rows = 1000;
// softmax([0, -85, -1])[1] ≈ 1.5e-37, times the mean's 1/1000: ≈ 1.5e-40, in the subnormal range;
// the other two entries of the row stay normal.
const row = [0, -85, -1];

function assertNoSubnormals(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]!);
    assert.ok(v === 0 || v >= FLT_MIN, `${what}[${i}] = ${values[i]} is subnormal`);
  }
}

test('crossEntropy: a logit gradient below the normal range is flushed to 0', () => {
  scope(() => {
    const logits = fromArray(Array.from({ length: rows }, () => row).flat(), [rows, 3]).setRequiresGrad();
    crossEntropy(logits, fromArray(new Int32Array(rows), [rows], 'int32')).backward();
    const grad = logits.grad!.toArray();
    assertNoSubnormals(grad, 'logits.grad');
    assert.ok(grad[0]! < 0 && grad[2]! > 0, `normal gradients are kept: ${grad[0]}, ${grad[2]}`);
  });
});

test('linearCrossEntropy: a logit gradient below the normal range is flushed to 0', () => {
  scope(() => {
    // x is 1 in row 0 only, so weight.grad = the logit gradient of row 0, whose logits are `row`.
    const x = fromArray(Array.from({ length: rows }, (_, i) => (i === 0 ? 1 : 0)), [rows, 1]);
    const weight = fromArray(row, [3, 1]).setRequiresGrad();
    linearCrossEntropy(x, weight, fromArray(new Int32Array(rows), [rows], 'int32')).backward();
    const grad = weight.grad!.toArray();
    assertNoSubnormals(grad, 'weight.grad');
    assert.ok(grad[0]! < 0 && grad[2]! > 0, `normal gradients are kept: ${grad[0]}, ${grad[2]}`);
  });
});
