// linear with a frozen 16-bit weight (bfloat16 or float16) against the float32 linear on the same
// rounded weight: both weight layouts, row counts on each side of the decoding/prefill switch and
// every row count of the decoding kernels, sizes that are not multiples of the vector width or of
// the register blocks, with and without bias (beta 1 and 0), and x's gradient.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linear, randn, toDtype, type Tensor } from '../../src/engine/index.js';
import { Generator } from '../../src/engine/random.js';

const gen = new Generator(11);

function assertClose(actual: Tensor, expected: Tensor, label: string): void {
  const a = actual.toArray();
  const e = expected.toArray();
  let scale = 0;
  for (const v of e) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < e.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= 1e-5 * scale, `${label}: element ${i} is ${a[i]}, expected ${e[i]} (scale ${scale})`);
  }
}

for (const dtype of ['bfloat16', 'float16'] as const) {
  for (const weightInOut of [false, true]) {
    test(`${dtype} weight ${weightInOut ? '[in, out]' : '[out, in]'}: the float32 product on the rounded weight`, () => {
      for (const [rows, inF, outF] of [[1, 768, 130], [3, 37, 67], [4, 64, 16], [5, 100, 3], [8, 200, 129], [16, 33, 257], [17, 80, 50], [40, 300, 70]] as const) {
        const w = toDtype(randn(weightInOut ? [inF, outF] : [outF, inF], { generator: gen }), dtype);
        const rounded = toDtype(w, 'float32');
        const x = randn([rows, inF], { generator: gen }).setRequiresGrad();
        const xRef = x.detach().setRequiresGrad();
        for (const bias of [null, randn([outF], { generator: gen })]) {
          const label = `${rows}x${inF}→${outF}${bias ? ' + bias' : ''}`;
          const y = linear(x, w, bias, { weightInOut });
          const ref = linear(xRef, rounded, bias, { weightInOut });
          assertClose(y, ref, label);
          const g = randn(y.shape, { generator: gen });
          y.backward(g);
          ref.backward(g);
          assertClose(x.grad!, xRef.grad!, `${label}: grad x`);
          x.zeroGrad();
          xRef.zeroGrad();
        }
      }
    });
  }
}

// Every row count of the decoding kernels (blocks of 8 rows of x, then the rest), with in- and
// out-features that leave tails after full register blocks and vectors of 16, and (2100 outputs)
// W [in, out] split by rows across threads.
for (const dtype of ['bfloat16', 'float16'] as const) {
  for (const weightInOut of [false, true]) {
    test(`${dtype} weight ${weightInOut ? '[in, out]' : '[out, in]'}: 1 to 16 rows, tails in every dimension`, () => {
      for (const [inF, outF] of [[5, 33], [16, 25], [77, 200], [300, 130], [64, 1000], [70, 2100]] as const) {
        const w = toDtype(randn(weightInOut ? [inF, outF] : [outF, inF], { generator: gen }), dtype);
        const rounded = toDtype(w, 'float32');
        const bias = randn([outF], { generator: gen });
        for (let rows = 1; rows <= 16; rows++) {
          const x = randn([rows, inF], { generator: gen });
          for (const b of [null, bias]) {
            const label = `${rows}x${inF}→${outF}${b ? ' + bias' : ''}`;
            assertClose(linear(x, w, b, { weightInOut }), linear(x, rounded, b, { weightInOut }), label);
          }
        }
      }
    });
  }
}

test('a 16-bit weight cannot require grad; 3-D inputs keep their leading dims', () => {
  const w = toDtype(randn([6, 4], { generator: gen }), 'bfloat16');
  assert.throws(() => w.setRequiresGrad(), /only float32 tensors can require grad/);
  const x = randn([2, 3, 4], { generator: gen });
  const y = linear(x, w);
  assert.deepEqual(y.shape, [2, 3, 6]);
  assertClose(y, linear(x, toDtype(w, 'float32')), '3-D input');
});
