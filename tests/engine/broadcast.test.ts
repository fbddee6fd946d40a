// The broadcasting kernels against a plain JS reference: every shape pattern the planner can
// produce, sizes large enough that threads split the output in the middle of segments, and results
// compared exactly (float +, -, ×, ÷ are correctly rounded, and so is fround of the f64 result).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, div, fromArray, getNumThreads, mul, rand, randn, setNumThreads, sub, type Tensor, where } from '../../src/engine/index.js';
import { planBroadcast } from '../../src/engine/ops/broadcast.js';

function broadcastIndex(outShape: number[], shape: readonly number[]): (flat: number) => number {
  const nd = outShape.length;
  const padded = [...new Array<number>(nd - shape.length).fill(1), ...shape];
  return (flat) => {
    let idx = 0;
    let stride = 1;
    for (let d = nd - 1; d >= 0; d--) {
      const i = flat % outShape[d]!;
      flat = Math.floor(flat / outShape[d]!);
      if (padded[d] !== 1) idx += i * stride;
      stride *= padded[d]!;
    }
    return idx;
  };
}

function reference(a: Tensor, b: Tensor, outShape: number[], f: (x: number, y: number) => number): Float32Array {
  const ia = broadcastIndex(outShape, a.shape);
  const ib = broadcastIndex(outShape, b.shape);
  const da = a.data();
  const db = b.data();
  const out = new Float32Array(outShape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < out.length; i++) out[i] = f(da[ia(i)]!, db[ib(i)]!);
  return out;
}

const OPS = [
  ['add', add, (x: number, y: number) => x + y],
  ['sub', sub, (x: number, y: number) => x - y],
  ['mul', mul, (x: number, y: number) => x * y],
  ['div', div, (x: number, y: number) => x / y],
] as const;

// Odd inner sizes so the per-thread ranges start and end inside segments.
const SHAPES: [number[], number[], number[]][] = [
  [[70001], [70001], [70001]],
  [[70001], [], [70001]],
  [[], [40, 1001], [40, 1001]],
  [[300, 257], [257], [300, 257]],
  [[2, 3, 97, 113], [1, 1, 97, 113], [2, 3, 97, 113]],
  [[2, 3, 97, 113], [2, 1, 1, 113], [2, 3, 97, 113]],
  [[301, 1], [1, 233], [301, 233]],
  [[7, 1, 131], [1, 61, 1], [7, 61, 131]],
  [[5, 1, 9, 1, 3], [4, 1, 7, 3], [5, 4, 9, 7, 3]],
];

test('broadcast binary ops match a JS reference on every layout, with 1 and 2 threads', () => {
  const threads = getNumThreads();
  try {
    for (const n of [1, 2]) {
      setNumThreads(n);
      for (const [sa, sb, so] of SHAPES) {
        const a = randn(sa);
        const b = rand(sb, { low: 0.5, high: 2 });
        for (const [name, op, f] of OPS) {
          for (const [x, y, label] of [[a, b, 'a op b'], [b, a, 'b op a']] as const) {
            const out = op(x, y);
            assert.deepEqual(out.shape, so, `${name} ${label} shape`);
            assert.deepEqual(out.data(), reference(x, y, so, f), `${name} ${label} [${sa}] [${sb}] on ${n} threads`);
            out.dispose();
          }
        }
        a.dispose();
        b.dispose();
      }
    }
  } finally {
    setNumThreads(threads);
  }
});

test('number operands match a JS reference', () => {
  const a = randn([50001]);
  for (const [name, op, f] of OPS) {
    const out = op(a, -1.3);
    assert.deepEqual(out.data(), Float32Array.from(a.data(), (x) => f(x, Math.fround(-1.3))), name);
  }
});

test('where matches a JS reference on broadcast layouts', () => {
  const cases: [number[], number[], number[]][] = [
    [[40001], [40001], [40001]],
    [[97, 1], [1, 1001], [1001]],
    [[1, 3, 1, 113], [2, 3, 97, 113], [2, 1, 1, 113]],
  ];
  for (const [sc, sa, sb] of cases) {
    const c = fromArray(Int32Array.from(rand(sc).data(), (v) => (v < 0.5 ? 0 : v < 0.75 ? 1 : -7)), sc);
    const a = randn(sa);
    const b = randn(sb);
    const out = where(c, a, b);
    const so = [...out.shape];
    const ic = broadcastIndex(so, sc);
    const ia = broadcastIndex(so, sa);
    const ib = broadcastIndex(so, sb);
    const expected = new Float32Array(out.size);
    for (let i = 0; i < out.size; i++) expected[i] = c.data()[ic(i)] !== 0 ? a.data()[ia(i)]! : b.data()[ib(i)]!;
    assert.deepEqual(out.data(), expected, `where [${sc}] [${sa}] [${sb}]`);
  }
});

test('the planner merges dims into the fewest contiguous segments', () => {
  const plan = (a: number[], b: number[]) => {
    const p = planBroadcast('t', [['a', a], ['b', b]]);
    return { dims: [...p.dims], strides: [...p.strides] };
  };
  assert.deepEqual(plan([4, 5, 6], [4, 5, 6]), { dims: [120], strides: [1, 1] });
  assert.deepEqual(plan([4, 5, 6], []), { dims: [120], strides: [1, 0] });
  assert.deepEqual(plan([8, 16], [16]), { dims: [8, 16], strides: [16, 1, 0, 1] });
  assert.deepEqual(plan([2, 3, 4, 5], [1, 1, 4, 5]), { dims: [6, 20], strides: [20, 1, 0, 1] });
  assert.deepEqual(plan([2, 3, 4, 5], [2, 1, 1, 5]), { dims: [2, 12, 5], strides: [60, 5, 1, 5, 0, 1] });
  assert.deepEqual(plan([3, 1], [1, 4]), { dims: [3, 4], strides: [1, 0, 0, 1] });
  assert.deepEqual(plan([1, 1], []), { dims: [1], strides: [0, 0] });
  assert.deepEqual(plan([0, 3], [3]), { dims: [0, 3], strides: [3, 1, 0, 1] });
});

test('empty tensors broadcast to empty results', () => {
  const out = add(randn([0, 3]), randn([3]));
  assert.deepEqual(out.shape, [0, 3]);
  assert.equal(out.size, 0);
});
