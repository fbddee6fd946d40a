// Invalid arguments to the indexing, join and rotary ops raise typed errors naming op and argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRotary, argmax, chunk, concat, DisposedTensorError, DTypeError, embedding, EngineError, fromArray, gather, indexSelect,
  IndexError, rotaryCosSin, type RopeScaling, ShapeError, split, stack, topk, zeros,
} from '../../src/engine/index.js';

const i32 = (values: number[], shape?: number[]) => fromArray(values, shape, 'int32');

function throwsTyped(fn: () => unknown, type: typeof EngineError, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    for (const f of fragments) assert.ok((err as Error).message.includes(f), `'${(err as Error).message}' lacks '${f}'`);
    return true;
  });
}

test('embedding names the position and value of an out-of-range id', () => {
  const w = zeros([10, 4]);
  throwsTyped(() => embedding(w, i32([1, 2, 3, 4, 5, 10], [2, 3])), IndexError, 'embedding', "'ids'", 'holds 10 at [1, 2]', '[0, 10)');
  throwsTyped(() => embedding(w, i32([0, -1])), IndexError, 'holds -1 at [1]');
  throwsTyped(() => embedding(w, i32([0]), { paddingIdx: 10 }), IndexError, "'paddingIdx'", '[-10, 10)');
  throwsTyped(() => embedding(w, i32([0]), { paddingIdx: 1.5 }), IndexError, "'paddingIdx'");
  throwsTyped(() => embedding(w, fromArray([0, 1])), DTypeError, "'ids'", 'int32');
  throwsTyped(() => embedding(zeros([10]), i32([0])), ShapeError, "'weight'", '2-D');
});

test('indexSelect and gather reject bad indices and shapes', () => {
  const x = zeros([3, 4]);
  throwsTyped(() => indexSelect(x, 1, i32([0, 4])), IndexError, 'indexSelect', "'index'", 'holds 4 at [1]', '[0, 4)');
  throwsTyped(() => indexSelect(x, 2, i32([0])), ShapeError, "'axis'");
  throwsTyped(() => indexSelect(x, 0, i32([0, 1], [1, 2])), ShapeError, "'index'", '1-D');
  throwsTyped(() => gather(x, 0, i32([0, 3, 1, 2], [1, 4])), IndexError, 'gather', 'holds 3 at [0, 1]', '[0, 3)');
  throwsTyped(() => gather(x, 0, i32([0, 1])), ShapeError, "'index'", 'rank');
  throwsTyped(() => gather(x, 0, i32([0, 0, 0, 0, 0], [1, 5])), ShapeError, "'index'", 'axis 1');
  throwsTyped(() => gather(x, 1, fromArray([[0]])), DTypeError, "'index'");
});

test('joins reject empty lists, mixed dtypes and mismatched shapes', () => {
  throwsTyped(() => concat([]), ShapeError, 'concat', "'tensors'");
  throwsTyped(() => concat([zeros([2, 3]), zeros([2, 3], 'int32')]), DTypeError, "'tensors[1]'", 'float32');
  throwsTyped(() => concat([zeros([2, 3]), zeros([3, 3])], 1), ShapeError, "'tensors[1]'", '[3, 3]');
  throwsTyped(() => concat([zeros([2, 3]), zeros([2, 3, 1])]), ShapeError, "'tensors[1]'");
  throwsTyped(() => concat([zeros([])]), ShapeError, "'tensors[0]'");
  throwsTyped(() => stack([zeros([2, 3]), zeros([3, 2])]), ShapeError, 'stack', "'tensors[1]'");
  throwsTyped(() => stack([zeros([2])], 2), ShapeError, "'axis'");
  throwsTyped(() => split(zeros([5]), [2, 2]), ShapeError, 'split', "'sizeOrSizes'", 'adding up to 5');
  throwsTyped(() => split(zeros([5]), 0), ShapeError, "'sizeOrSizes'");
  throwsTyped(() => chunk(zeros([5]), 0), ShapeError, 'chunk', "'chunks'");
});

test('argmax and topk reject empty reductions and bad k', () => {
  throwsTyped(() => argmax(zeros([2, 0]), 1), ShapeError, 'argmax', 'empty');
  throwsTyped(() => argmax(zeros([0])), ShapeError, 'argmax', 'empty');
  throwsTyped(() => argmax(zeros([2], 'int32'), 0), DTypeError, 'argmax');
  throwsTyped(() => topk(zeros([2, 3]), 4), ShapeError, 'topk', "'k'", '[0, 3]');
  throwsTyped(() => topk(zeros([2, 3]), 1, { axis: 2 }), ShapeError, "'options.axis'");
});

test('argmax and topk refuse flags that are not booleans', () => {
  const x = fromArray([3, 1, 4, 1, 5]);
  throwsTyped(() => topk(x, 2, { largest: 1 as unknown as boolean }), EngineError, 'topk', "'options.largest'", 'must be a boolean, got 1');
  throwsTyped(() => topk(x, 2, { axes: 0 } as never), EngineError, 'topk', "'options.axes'", 'is not an option');
  throwsTyped(() => argmax(x, 0, 1 as unknown as boolean), EngineError, 'argmax', "'keepDim'");
  assert.deepEqual([...topk(x, 2, null as never).values.toArray()], [5, 4]);
  assert.deepEqual([...topk(x, 2, { largest: false }).values.toArray()], [1, 1]);
});

test('applyRotary checks the x and table shapes', () => {
  const x = zeros([2, 3, 4, 6]);
  const table = zeros([4, 6]);
  throwsTyped(() => applyRotary(zeros([2, 3, 4, 5]), zeros([4, 5]), zeros([4, 5])), ShapeError, 'applyRotary', "'x'", 'even');
  throwsTyped(() => applyRotary(zeros([3, 4, 6]), table, table), ShapeError, "'x'", '4-D');
  throwsTyped(() => applyRotary(x, zeros([5, 6]), table), ShapeError, "'cos'", '[4, 6]');
  throwsTyped(() => applyRotary(x, zeros([3, 4, 6]), zeros([3, 4, 6])), ShapeError, "'cos'");
  throwsTyped(() => applyRotary(x, table, zeros([2, 4, 6])), ShapeError, "'sin'");
});

test('rotaryCosSin validates positions, dim and the rope scaling', () => {
  const p = i32([0, 1, 2]);
  throwsTyped(() => rotaryCosSin(fromArray([0, 1]), { dim: 4 }), DTypeError, 'rotaryCosSin', "'positions'");
  throwsTyped(() => rotaryCosSin(i32([0], [1, 1, 1]), { dim: 4 }), ShapeError, "'positions'");
  throwsTyped(() => rotaryCosSin(p, { dim: 5 }), ShapeError, "'dim'", 'even');
  throwsTyped(() => rotaryCosSin(p, { dim: 4, theta: 0 }), EngineError, "'theta'");
  throwsTyped(() => rotaryCosSin(p, { dim: 4, scaling: { type: 'linear', factor: -1 } }), EngineError, "'scaling.factor'");
  const llama3 = { type: 'llama3', factor: 8, lowFreqFactor: 2, highFreqFactor: 2, originalMaxPositionEmbeddings: 64 } as const;
  throwsTyped(() => rotaryCosSin(p, { dim: 4, scaling: llama3 }), EngineError, "'scaling.highFreqFactor'");
  throwsTyped(() => rotaryCosSin(p, { dim: 4, scaling: { ...llama3, highFreqFactor: 4, originalMaxPositionEmbeddings: 1.5 } }), EngineError, "'scaling.originalMaxPositionEmbeddings'");
  throwsTyped(() => rotaryCosSin(p, { dim: 4, scaling: { type: 'yarn' } as unknown as RopeScaling }), EngineError, "'scaling.type'");
  throwsTyped(() => rotaryCosSin(p, undefined as never), EngineError, 'rotaryCosSin', "'options'", 'must be an object');
  throwsTyped(() => rotaryCosSin(p, null as never), EngineError, 'rotaryCosSin', "'options'");
  throwsTyped(() => rotaryCosSin(p, { dim: 4, scaling: 'linear' as never }), EngineError, "'scaling'");
});

test("rotaryCosSin reads a null scaling (a config's rope_scaling: null) as none", () => {
  const p = i32([0, 1, 2]);
  const plain = rotaryCosSin(p, { dim: 4 });
  const nulled = rotaryCosSin(p, { dim: 4, scaling: null });
  assert.deepEqual([...nulled.cos.toArray(), ...nulled.sin.toArray()], [...plain.cos.toArray(), ...plain.sin.toArray()]);
});

test('embedding takes null as no options and refuses unknown ones', () => {
  const w = fromArray([[1, 2], [3, 4]]);
  assert.deepEqual([...embedding(w, i32([1]), null as never).toArray()], [3, 4]);
  throwsTyped(() => embedding(w, i32([1]), { padding_idx: 0 } as never), EngineError, 'embedding', "'options.padding_idx'");
});

test('disposed arguments are reported before any kernel runs', () => {
  const ids = i32([0]);
  ids.dispose();
  throwsTyped(() => embedding(zeros([2, 2]), ids), DisposedTensorError, 'embedding', "'ids'");
  const x = zeros([2]);
  x.dispose();
  throwsTyped(() => concat([zeros([2]), x]), DisposedTensorError, "'tensors[1]'");
});
