import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type DType, DTypeError, fromArray, type Tensor, toDtype } from '../../src/engine/index.js';
import { fixturePath } from '../helpers/paths.js';

const fixture = JSON.parse(readFileSync(fixturePath('ops', 'cast.json'), 'utf8')) as {
  input: number[];
  bfloat16: (number | string | null)[];
  float16: (number | string | null)[];
};

for (const dtype of ['bfloat16', 'float16'] as const) {
  test(`float32 -> ${dtype} rounds exactly as PyTorch, and converts back losslessly`, () => {
    const x = fromArray(fixture.input);
    const half = toDtype(x, dtype);
    assert.equal(half.dtype, dtype);
    assert.equal(half.storage.bytes, x.size * 2, 'half storage uses 2 bytes per element');
    const back = toDtype(half, 'float32').toArray();
    fixture[dtype].forEach((want, i) => {
      if (want === null) assert.ok(Number.isNaN(back[i]!), `element ${i}`);
      else if (typeof want === 'string') assert.equal(back[i], Number(want.replace('inf', 'Infinity')), `element ${i}`);
      else assert.equal(back[i], want, `element ${i}: ${fixture.input[i]} -> ${back[i]}, torch gives ${want}`);
    });
    assert.deepEqual([...half.toArray()], [...back]);
    for (const t of [x, half]) t.dispose();
  });
}

test('float32 <-> int32 conversion truncates toward zero', () => {
  const x = fromArray([1.9, -1.9, 0, 7]);
  assert.deepEqual([...toDtype(x, 'int32').toArray()], [1, -1, 0, 7]);
  assert.deepEqual([...toDtype(fromArray(Int32Array.from([3, -4])), 'float32').toArray()], [3, -4]);
});

test('a half tensor cannot require grad and cannot be read as float32 without conversion', () => {
  const half = fromArray([1, 2], [2], 'bfloat16');
  assert.throws(() => half.setRequiresGrad(), /only float32 tensors can require grad/);
  assert.throws(() => half.data(), /convert with toDtype/);
});

test('an unknown or missing target dtype is refused', () => {
  const x = fromArray([1, 2]);
  assert.throws(() => toDtype(x, 'float64' as DType), (e: Error) => e instanceof DTypeError && /^toDtype: argument 'dtype' must be float32, float16, bfloat16 or int32, got 'float64'$/.test(e.message));
  assert.throws(() => toDtype(x, undefined as unknown as DType), /toDtype: argument 'dtype' .* got undefined/);
  assert.throws(() => toDtype(null as unknown as Tensor, 'float32'), /toDtype: argument 'x' must be a Tensor/);
});
