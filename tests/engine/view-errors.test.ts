// Invalid arguments to the shape ops raise a ShapeError naming the op the caller used and the argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, type EngineError, expand, flatten, permute, reshape, ShapeError, slice, sumToShape, zeros } from '../../src/engine/index.js';

function throwsNaming(fn: () => unknown, op: string, arg: string, fragment = ''): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ShapeError, `expected a ShapeError, got ${String(err)}`);
    assert.equal((err as EngineError).op, op);
    assert.equal((err as EngineError).arg, arg);
    assert.ok((err as Error).message.includes(fragment), `'${(err as Error).message}' lacks '${fragment}'`);
    return true;
  });
}

test('slice takes integer positions only', () => {
  const x = arange(0, 12).view([6, 2]);
  throwsNaming(() => slice(x, 0, 1.5), 'slice', 'start', 'must be an integer, got 1.5');
  throwsNaming(() => slice(x, 0, 0, 2.5), 'slice', 'end');
  throwsNaming(() => slice(x, 0, Number.NaN), 'slice', 'start');
  throwsNaming(() => slice(x, 0, '1' as unknown as number), 'slice', 'start');
  throwsNaming(() => slice(x, 0, 0, Number.POSITIVE_INFINITY), 'slice', 'end');
  throwsNaming(() => slice(x, 0.5, 0), 'slice', 'axis');
  throwsNaming(() => slice(x, 0, 0, 6, 1.5), 'slice', 'step');
  assert.deepEqual([...slice(x, 0, -100, 100, 5).toArray()], [0, 1, 10, 11]);
});

test('flatten refuses a startDim after endDim (as torch)', () => {
  throwsNaming(() => flatten(zeros([2, 3]), -1, 0), 'flatten', 'startDim', 'cannot come after endDim');
  assert.deepEqual(flatten(zeros([2, 3, 4]), 1, 1).shape, [2, 3, 4]);
  assert.deepEqual(flatten(zeros([2, 3, 4]), -2).shape, [2, 12]);
});

test('permute, reshape, expand and sumToShape name themselves for a malformed shape or dims', () => {
  const x = zeros([2, 3]);
  throwsNaming(() => permute(x, 'ab' as unknown as number[]), 'permute', 'dims', "must be an array of integers, got 'ab'");
  throwsNaming(() => permute(x, [0, 'a'] as unknown as number[]), 'permute', 'dims');
  throwsNaming(() => reshape(x, 6 as unknown as number[]), 'reshape', 'shape');
  throwsNaming(() => expand(zeros([1, 3]), [2.5, 3]), 'expand', 'shape');
  throwsNaming(() => expand(zeros([1, 3]), [-1, 2, 3]), 'expand', 'shape');
  throwsNaming(() => expand(zeros([1, 3]), [Number.NaN, 3]), 'expand', 'shape');
  throwsNaming(() => expand(zeros([3]), 'ab' as unknown as number[]), 'expand', 'shape');
  assert.deepEqual(expand(zeros([1, 3]), [2, -1]).shape, [2, 3]);
  throwsNaming(() => sumToShape(x, [1, 2, 3]), 'sumToShape', 'shape', 'has more dims than g [2, 3]');
  throwsNaming(() => sumToShape(x, [2.5]), 'sumToShape', 'shape');
  throwsNaming(() => sumToShape(x, null as unknown as number[]), 'sumToShape', 'shape');
});
