import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import {
  crossEntropy, DisposedTensorError, DTypeError, EngineError, fromArray, IndexError, layerNorm, logSoftmax, max, type MaxOptions,
  mean, ones, type ReduceOptions, rmsNorm, ShapeError, softmax, sum, type Tensor, zeros,
} from '../../src/engine/index.js';
import { goldenTests } from '../helpers/golden.js';
import { repoRoot } from '../helpers/paths.js';

type A = Record<string, unknown>;
type Axis = number | number[] | undefined;

goldenTests('reduce_norm', {
  sum: ([x], o: A) => sum(x!, { axis: o.axis as Axis, keepDim: o.keepDim as boolean }),
  mean: ([x], o: A) => mean(x!, { axis: o.axis as Axis, keepDim: o.keepDim as boolean }),
  max: ([x], o: A) => max(x!, { axis: o.axis as number, keepDim: o.keepDim as boolean }),
  softmax: ([x], o: A) => softmax(x!, o.axis as number),
  logSoftmax: ([x], o: A) => logSoftmax(x!, o.axis as number),
  layerNorm: ([x, ...params], o: A) => {
    const weight = o.weight ? params.shift()! : null;
    const bias = o.bias ? params.shift()! : null;
    return layerNorm(x!, weight, bias, o.eps as number);
  },
  rmsNorm: ([x, w], o: A) => rmsNorm(x!, o.weight ? w! : null, o.eps as number),
  crossEntropy: ([x, t], o: A) => crossEntropy(x!, t!, o),
});

const x23 = () => fromArray([[1, 2, 3], [4, 5, 6]]);
const targets = (values: number[]) => fromArray(Int32Array.from(values));

test('reductions reject bad axes and options', () => {
  assert.throws(() => sum(x23(), { axis: 2 }), ShapeError);
  assert.throws(() => mean(x23(), { axis: -3 }), ShapeError);
  assert.throws(() => sum(x23(), { axis: 0.5 }), ShapeError);
  assert.throws(() => sum(x23(), { axis: [1, -1] }), /axis 1 more than once/);
  assert.throws(() => sum(x23(), { keepDim: 'yes' as unknown as boolean }), EngineError);
  assert.throws(() => max(x23(), {} as { axis: number }), /max: argument 'axis' must be given/);
  assert.throws(() => max(x23(), { axis: 2 }), ShapeError);
  assert.throws(() => max(zeros([2, 0]), { axis: 1 }), /empty axis 1/);
  assert.throws(() => sum(targets([1, 2])), DTypeError);
  const gone = x23();
  gone.dispose();
  assert.throws(() => mean(gone), DisposedTensorError);
});

test('reductions over an empty axis: sum 0, mean NaN, empty gradient (as torch)', () => {
  const x = zeros([2, 0, 3]).setRequiresGrad();
  const s = sum(x, { axis: 1 });
  assert.deepEqual([...s.toArray()], [0, 0, 0, 0, 0, 0]);
  s.backward(ones([2, 3]));
  assert.deepEqual(x.grad!.shape, [2, 0, 3]);
  const m = mean(x, { axis: [0, 1] });
  assert.ok([...m.toArray()].every(Number.isNaN));
  assert.ok(Number.isNaN(mean(zeros([0, 4])).item()));
});

test('reductions of a tensor with no rows give empty results and gradients (as torch)', () => {
  // In a child process: a kernel that divides by the empty dim kills its process with SIGFPE.
  const engine = pathToFileURL(join(repoRoot, 'dist', 'src', 'engine', 'index.js')).href;
  const script = `
    const P = await import(${JSON.stringify(engine)});
    const x = P.zeros([0, 3]).setRequiresGrad();
    const shapes = [
      P.sum(x, { axis: 1 }), P.sum(x, { axis: 1, keepDim: true }), P.mean(P.zeros([0, 5]), { axis: -1 }),
      P.mean(P.zeros([0, 5]), { axis: -1, keepDim: true }), P.max(x, { axis: 1 }), P.max(x, { axis: 1, keepDim: true }),
      P.sum(P.zeros([0, 3, 2]), { axis: [1, 2] }), P.argmax(x, 1),
    ].map((t) => t.shape);
    P.sum(P.max(x, { axis: 1 })).backward();
    P.sum(P.mean(x, { axis: 1 })).backward();
    console.log(JSON.stringify([...shapes, x.grad.shape]));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.signal, null, `the child was killed by ${child.signal}: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), [[0], [0, 1], [0], [0, 1], [0], [0, 1], [0], [0], [0, 3]]);
});

test('reduction options of the wrong type are refused; null means none', () => {
  assert.throws(() => sum(x23(), { keepDim: 1 as unknown as boolean }), /sum: argument 'keepDim' must be a boolean, got 1/);
  assert.throws(() => mean(x23(), { axes: 1 } as ReduceOptions), /mean: argument 'options.axes' is not an option/);
  assert.throws(() => max(x23(), { axis: 0, keepDim: 'no' as unknown as boolean }), /max: argument 'keepDim'/);
  assert.throws(() => max(x23(), null as unknown as MaxOptions), /max: argument 'axis' must be given/);
  assert.throws(() => sum(x23(), 1 as unknown as ReduceOptions), /sum: argument 'options' must be an object of options \(axis, keepDim\), got 1/);
  assert.equal(sum(x23(), null as unknown as ReduceOptions).item(), 21);
});

test('softmax rejects bad axes and dtypes', () => {
  assert.throws(() => softmax(x23(), 2), /softmax: argument 'axis'/);
  assert.throws(() => logSoftmax(x23(), -3), ShapeError);
  assert.throws(() => softmax(targets([1, 2])), DTypeError);
});

test('norms reject mismatched weight and bias', () => {
  assert.throws(() => layerNorm(x23(), ones([2]), null), /layerNorm: argument 'weight' must have shape \[3\]/);
  assert.throws(() => layerNorm(x23(), ones([3]), ones([3, 1])), /layerNorm: argument 'bias' must have shape \[3\]/);
  assert.throws(() => layerNorm(x23(), targets([1, 1, 1]), null), DTypeError);
  assert.throws(() => layerNorm(x23(), null, null, Number.NaN), /argument 'eps'/);
  assert.throws(() => layerNorm(fromArray(3), null, null), ShapeError);
  assert.throws(() => rmsNorm(x23(), ones([4])), /rmsNorm: argument 'weight'/);
});

test('crossEntropy rejects bad targets before the native layer', () => {
  const logits = zeros([3, 4]);
  assert.throws(() => crossEntropy(logits, fromArray([0, 1, 2])), /crossEntropy: argument 'targets' must be int32/);
  assert.throws(() => crossEntropy(logits, targets([0, 1])), /argument 'targets' has shape \[2\], expected \[3\]/);
  assert.throws(() => crossEntropy(logits, targets([0, 4, 1])), (e: unknown) => e instanceof IndexError && /row 1 has target 4/.test(e.message));
  assert.throws(() => crossEntropy(logits, targets([0, 1, -1])), /row 2 has target -1/);
  assert.throws(() => crossEntropy(logits, targets([0, 1, 2]), { ignoreIndex: 1.5 }), /ignoreIndex/);
  assert.throws(() => crossEntropy(logits, targets([0, 1, 2]), { reduction: 'avg' as 'mean' }), /reduction/);
  assert.throws(() => crossEntropy(zeros([3, 0]), targets([-100, -100, -100])), /class dim is empty/);
  assert.throws(() => crossEntropy(targets([0, 1]), targets([0])), DTypeError);
  assert.throws(() => crossEntropy(logits, targets([0, 1, 2]), { ignore_index: 1 } as never), /crossEntropy: argument 'options.ignore_index' is not an option/);
  assert.equal(crossEntropy(logits, targets([0, 1, 2]), null as never).item(), Math.fround(Math.log(4)));
});

test('crossEntropy with every target ignored: NaN mean, zero sum, zero gradient (as torch)', () => {
  const logits = fromArray([[1, 2], [3, 4]]).setRequiresGrad();
  const ignored = targets([-100, -100]);
  const m = crossEntropy(logits, ignored);
  assert.ok(Number.isNaN(m.item()));
  m.backward();
  assert.deepEqual([...logits.grad!.toArray()], [0, 0, 0, 0]);
  assert.equal(crossEntropy(logits, ignored, { reduction: 'sum' }).item(), 0);
});

test('softmax gives exact zeros under -Infinity masks and NaN for a fully masked row (as torch)', () => {
  const y = softmax(fromArray([[0, -Infinity, 0], [-Infinity, -Infinity, -Infinity]])).toArray();
  assert.deepEqual([...y.slice(0, 3)], [0.5, 0, 0.5]);
  assert.ok([...y.slice(3)].every(Number.isNaN));
  const l = logSoftmax(fromArray([[0, -Infinity]])).toArray();
  assert.deepEqual([...l], [0, -Infinity]);
});

test('max propagates NaN and sends the gradient to its first position', () => {
  const x: Tensor = fromArray([[1, Number.NaN, 3, Number.NaN]]).setRequiresGrad();
  const v = max(x, { axis: 1 });
  assert.ok(Number.isNaN(v.item()));
  v.backward();
  assert.deepEqual([...x.grad!.toArray()], [0, 1, 0, 0]);
});
