// Sizes large enough for the kernels to split work across threads, checked against plain loops
// written from the ops' definitions; and the element-moving ops on int32 and bfloat16 tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRotary, concat, embedding, fromArray, gather, Generator, indexSelect, randn, setNumThreads, split, toDtype, type Tensor,
} from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';

setNumThreads(2);
const gen = new Generator(7);
const tol = { atol: 1e-4, rtol: 1e-4 };

function randomInts(count: number, bound: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 8) % bound;
  }
  return out;
}

test('embedding forward and backward (repeated ids, padding row) across threads', () => {
  const [V, D, N, pad] = [257, 72, 1500, 5];
  const w = randn([V, D], { generator: gen }).setRequiresGrad();
  const ids = randomInts(N, 40, 1); // few distinct rows, many repeats
  const out = embedding(w, fromArray(ids, [3, N / 3]), { paddingIdx: pad });
  assert.deepEqual([...out.shape], [3, N / 3, D]);
  const g = randn([3, N / 3, D], { generator: gen });
  out.backward(g);
  const wv = w.toArray();
  const gv = g.toArray();
  const expectedOut = new Float32Array(N * D);
  const expectedGrad = new Float64Array(V * D);
  ids.forEach((id, n) => {
    for (let d = 0; d < D; d++) {
      expectedOut[n * D + d] = wv[id * D + d]!;
      if (id !== pad) expectedGrad[id * D + d]! += gv[n * D + d]!;
    }
  });
  assertClose(out.toArray(), expectedOut, { atol: 0, rtol: 0 }, 'embedding output');
  assertClose(w.grad!.toArray(), expectedGrad, tol, 'embedding weight grad');
});

test('indexSelect on a middle axis, backward across threads', () => {
  const [O, n, I, count] = [6, 50, 33, 400];
  const x = randn([O, n, I], { generator: gen }).setRequiresGrad();
  const index = randomInts(count, n, 2);
  const out = indexSelect(x, 1, fromArray(index));
  const g = randn([O, count, I], { generator: gen });
  out.backward(g);
  const xv = x.toArray();
  const gv = g.toArray();
  const expectedOut = new Float32Array(O * count * I);
  const expectedGrad = new Float64Array(O * n * I);
  for (let o = 0; o < O; o++) {
    index.forEach((r, a) => {
      for (let c = 0; c < I; c++) {
        expectedOut[(o * count + a) * I + c] = xv[(o * n + r) * I + c]!;
        expectedGrad[(o * n + r) * I + c]! += gv[(o * count + a) * I + c]!;
      }
    });
  }
  assertClose(out.toArray(), expectedOut, { atol: 0, rtol: 0 }, 'indexSelect output');
  assertClose(x.grad!.toArray(), expectedGrad, tol, 'indexSelect grad');
});

function checkGather(xShape: [number, number], axis: 0 | 1, indexShape: [number, number], seed: number): void {
  const x = randn(xShape, { generator: gen }).setRequiresGrad();
  const index = randomInts(indexShape[0] * indexShape[1], xShape[axis], seed);
  const out = gather(x, axis, fromArray(index, indexShape));
  const g = randn(indexShape, { generator: gen });
  out.backward(g);
  const xv = x.toArray();
  const gv = g.toArray();
  const expectedOut = new Float32Array(index.length);
  const expectedGrad = new Float64Array(x.size);
  for (let i = 0; i < indexShape[0]; i++) {
    for (let j = 0; j < indexShape[1]; j++) {
      const k = i * indexShape[1] + j;
      const src = axis === 0 ? index[k]! * xShape[1] + j : i * xShape[1] + index[k]!;
      expectedOut[k] = xv[src]!;
      expectedGrad[src]! += gv[k]!;
    }
  }
  assertClose(out.toArray(), expectedOut, { atol: 0, rtol: 0 }, 'gather output');
  assertClose(x.grad!.toArray(), expectedGrad, tol, 'gather grad');
}

test('gather along the first axis (wide rows) across threads', () => checkGather([40, 300], 0, [500, 300], 3));
test('gather along the last axis (many rows) across threads', () => checkGather([800, 30], 1, [800, 50], 4));

test('applyRotary with per-batch tables matches its definition, gradients included', () => {
  const [B, H, T, D] = [2, 4, 128, 32];
  const half = D / 2;
  const x = randn([B, H, T, D], { generator: gen }).setRequiresGrad();
  const cos = randn([B, T, D], { generator: gen }).setRequiresGrad();
  const sin = randn([B, T, D], { generator: gen }).setRequiresGrad();
  const out = applyRotary(x, cos, sin);
  const g = randn([B, H, T, D], { generator: gen });
  out.backward(g);
  const [xv, cv, sv, gv] = [x, cos, sin, g].map((t: Tensor) => t.toArray());
  const y = new Float64Array(x.size);
  const gx = new Float64Array(x.size);
  const gc = new Float64Array(cos.size);
  const gs = new Float64Array(sin.size);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * H + h) * T + t) * D;
        const tab = (b * T + t) * D;
        for (let j = 0; j < D; j++) {
          // rotate_half(x)[j] = -x[j + half] for the first half, x[j - half] for the second
          const partner = j < half ? j + half : j - half;
          const sign = j < half ? -1 : 1;
          const rot = sign * xv![row + partner]!;
          y[row + j] = xv![row + j]! * cv![tab + j]! + rot * sv![tab + j]!;
          gc[tab + j]! += gv![row + j]! * xv![row + j]!;
          gs[tab + j]! += gv![row + j]! * rot;
          gx[row + j]! += gv![row + j]! * cv![tab + j]!;
          gx[row + partner]! += sign * gv![row + j]! * sv![tab + j]!;
        }
      }
    }
  }
  assertClose(out.toArray(), y, tol, 'rotary output');
  assertClose(x.grad!.toArray(), gx, tol, 'rotary grad x');
  assertClose(cos.grad!.toArray(), gc, tol, 'rotary grad cos');
  assertClose(sin.grad!.toArray(), gs, tol, 'rotary grad sin');
});

test('element-moving ops keep int32 and bfloat16 values exactly', () => {
  const a = fromArray([1, 2, 3, 4], [2, 2], 'int32');
  const b = fromArray([-7, 2147483647], [2, 1], 'int32');
  const joined = concat([a, b], 1);
  assert.equal(joined.dtype, 'int32');
  assert.deepEqual([...joined.toArray()], [1, 2, -7, 3, 4, 2147483647]);
  assert.deepEqual([...indexSelect(joined, 1, fromArray([2, 0], [2], 'int32')).toArray()], [-7, 1, 2147483647, 3]);
  assert.deepEqual([...split(joined, [1, 2], 1)[1]!.toArray()], [2, -7, 4, 2147483647]);

  const w = fromArray([0.5, -1.25, 3, 1024, 0.125, -2], [3, 2]);
  const wHalf = toDtype(w, 'bfloat16');
  const rows = embedding(wHalf, fromArray([2, 0, 2], [3], 'int32'));
  assert.equal(rows.dtype, 'bfloat16');
  assert.deepEqual([...rows.toArray()], [0.125, -2, 0.5, -1.25, 0.125, -2]);
  const cols = gather(toDtype(w, 'float16'), 1, fromArray([1, 1, 0], [3, 1], 'int32'));
  assert.deepEqual([...cols.toArray()], [-1.25, 1024, 0.125]);
});
