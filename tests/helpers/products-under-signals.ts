// Every way the engine reaches oneDNN (sgemm, the matmul primitive, batched products, attention
// tiles, the LM-head loss, 16-bit weights), repeated for a while. The signals test runs it under
// a sampling profiler, which interrupts the main thread every few microseconds; each repeat must
// give the bits of the first. Prints "ok <repeats>" at the end.
import { fromArray, Generator, linear, linearCrossEntropy, matmul, randn, scaledDotProductAttention, scope, toDtype, type Tensor } from '../../src/engine/index.js';

const SECONDS = Number(process.argv[2] ?? '1.5');
const gen = new Generator(3);
const x = randn([256, 768], { generator: gen });
const square = randn([768, 768], { generator: gen });
const long = randn([256, 2048], { generator: gen });
const down = randn([64, 2048], { generator: gen });
const batchA = randn([16, 32, 64], { generator: gen });
const batchB = randn([16, 64, 32], { generator: gen });
const q = randn([2, 4, 128, 64], { generator: gen });
const k = randn([2, 4, 128, 64], { generator: gen });
const v = randn([2, 4, 128, 64], { generator: gen });
const head = randn([20000, 768], { generator: gen, std: 0.02 });
const hidden = randn([64, 768], { generator: gen }).setRequiresGrad();
const targets = fromArray(Int32Array.from({ length: 64 }, (_, i) => (i * 313) % 20000), [64], 'int32');
const half = toDtype(randn([512, 768], { generator: gen }), 'bfloat16');

function products(): Float32Array[] {
  return scope(() => {
    const loss = linearCrossEntropy(hidden, head, targets);
    const outs: Tensor[] = [
      matmul(x, square),
      matmul(x, square, { transB: true }),
      matmul(long, down, { transB: true }),
      matmul(batchA, batchB),
      scaledDotProductAttention(q, k, v, { causal: true }),
      loss,
      linear(x, half),
    ];
    loss.backward();
    outs.push(hidden.grad!);
    return outs.map((t) => Float32Array.from(t.toArray()));
  });
}

const first = products();
let repeats = 0;
const end = performance.now() + SECONDS * 1000;
while (performance.now() < end) {
  hidden.zeroGrad();
  const again = products();
  again.forEach((values, i) => {
    const j = values.findIndex((value, e) => !Object.is(value, first[i]![e]));
    if (j >= 0) throw new Error(`product ${i} changed at element ${j} on repeat ${repeats + 1}: ${values[j]} vs ${first[i]![j]}`);
  });
  repeats++;
}
console.log(`ok ${repeats}`);
