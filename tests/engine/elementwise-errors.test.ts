import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  add, clamp, DisposedTensorError, div, dropout, DTypeError, EngineError, exp, fromArray, gelu, maskedFill, mul, pow,
  randn, ShapeError, sub, type Tensor, where,
} from '../../src/engine/index.js';

const ints = (shape: number[]) => fromArray(new Int32Array(shape.reduce((p, d) => p * d, 1)), shape);

function throwsNaming(fn: () => unknown, type: new (...args: never[]) => Error, op: string, arg: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.equal((err as EngineError).op, op);
    assert.equal((err as EngineError).arg, arg);
    return true;
  });
}

test('binary ops name the operand whose shape does not broadcast', () => {
  const a = randn([2, 3]);
  for (const [name, fn] of [['add', add], ['sub', sub], ['mul', mul], ['div', div]] as const) {
    throwsNaming(() => fn(a, randn([4])), ShapeError, name, 'b');
  }
  assert.throws(() => add(a, randn([2, 4])), /add: argument 'b' has shape \[2, 4\], which does not broadcast with \[2, 3\]/);
});

test('where and maskedFill name the mismatched argument', () => {
  throwsNaming(() => where(ints([2, 3]), randn([3]), randn([4])), ShapeError, 'where', 'b');
  throwsNaming(() => where(ints([5]), randn([2, 3]), 0), ShapeError, 'where', 'a');
  throwsNaming(() => maskedFill(randn([2, 4]), ints([3]), 0), ShapeError, 'maskedFill', 'mask');
  // Broadcastable with x, but it would grow x: maskedFill keeps x's shape.
  throwsNaming(() => maskedFill(randn([3, 4]), ints([2, 1, 4]), 0), ShapeError, 'maskedFill', 'mask');
});

test('disposed tensors are refused before any kernel runs', () => {
  const gone = randn([3]);
  gone.dispose();
  throwsNaming(() => exp(gone), DisposedTensorError, 'exp', 'x');
  throwsNaming(() => add(randn([3]), gone), DisposedTensorError, 'add', 'b');
  throwsNaming(() => mul(gone, 2), DisposedTensorError, 'mul', 'a');
  throwsNaming(() => where(ints([3]), gone, 1), DisposedTensorError, 'where', 'a');
  throwsNaming(() => dropout(gone, 0.5), DisposedTensorError, 'dropout', 'x');
});

test('int32 tensors are refused by float ops, float masks by where and maskedFill', () => {
  throwsNaming(() => exp(ints([3])), DTypeError, 'exp', 'x');
  throwsNaming(() => gelu(ints([3])), DTypeError, 'gelu', 'x');
  throwsNaming(() => add(ints([3]), 1), DTypeError, 'add', 'a');
  throwsNaming(() => div(randn([3]), ints([3])), DTypeError, 'div', 'b');
  throwsNaming(() => where(randn([3]), randn([3]), 0), DTypeError, 'where', 'cond');
  throwsNaming(() => maskedFill(randn([3]), randn([3]), 0), DTypeError, 'maskedFill', 'mask');
});

test('non-tensor and non-number operands are typed errors', () => {
  const x = randn([2]);
  throwsNaming(() => add(x, '1' as unknown as number), DTypeError, 'add', 'b');
  throwsNaming(() => mul(null as unknown as Tensor, 2), DTypeError, 'mul', 'a');
  throwsNaming(() => where(ints([2]), x, [1] as unknown as number), DTypeError, 'where', 'b');
  throwsNaming(() => maskedFill(x, ints([2]), '0' as unknown as number), EngineError, 'maskedFill', 'value');
});

test('option and parameter errors name the op and argument', () => {
  const x = randn([2]);
  throwsNaming(() => pow(x, '2' as unknown as number), EngineError, 'pow', 'exponent');
  throwsNaming(() => clamp(x, {}), EngineError, 'clamp', 'options');
  throwsNaming(() => clamp(x, { min: 0, max: null as unknown as number }), EngineError, 'clamp', 'max');
  throwsNaming(() => gelu(x, { approximate: 'fast' as 'tanh' }), EngineError, 'gelu', 'approximate');
  throwsNaming(() => gelu(x, 'tanh' as never), EngineError, 'gelu', 'options');
  assert.deepEqual([...gelu(x, null as never).toArray()], [...gelu(x).toArray()]);
  for (const p of [-0.1, 1.5, Number.NaN]) throwsNaming(() => dropout(x, p), EngineError, 'dropout', 'p');
  throwsNaming(() => dropout(x, 0.5, { generator: {} as never }), EngineError, 'dropout', 'generator');
});
