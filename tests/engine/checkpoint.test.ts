import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkpoint, defaultGenerator, DTypeError, EngineError, manualSeed, matmul, randn, scope, Storage, type Tensor,
} from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';

const [B, D, H, O] = [8, 16, 32, 4];

function block(w1: Tensor, w2: Tensor): (x: Tensor) => Tensor {
  return (x) => matmul(matmul(x, w1), w2);
}

/** Forward (plain or checkpointed) + backward with upstream grad g; returns the grads of x, w1, w2 and the bytes the forward kept alive. */
function gradsOf(useCheckpoint: boolean, x: Tensor, w1: Tensor, w2: Tensor, g: Tensor) {
  return scope(() => {
    const before = Storage.liveBytes;
    const f = block(w1, w2);
    const out = useCheckpoint ? checkpoint(f, x) : f(x);
    const forwardBytes = Storage.liveBytes - before;
    out.backward(g);
    const grads = [x, w1, w2].map((t) => {
      const values = t.grad!.toArray();
      t.zeroGrad();
      return values;
    });
    return { grads, forwardBytes };
  });
}

test('checkpoint gives the same gradients as the plain block and keeps only its output alive', () => {
  const x = randn([B, D]).setRequiresGrad();
  const w1 = randn([D, H]).setRequiresGrad();
  const w2 = randn([H, O]).setRequiresGrad();
  const g = randn([B, O]);
  const plain = gradsOf(false, x, w1, w2, g);
  const recomputed = gradsOf(true, x, w1, w2, g);
  ['x', 'w1', 'w2'].forEach((name, i) => assertClose(recomputed.grads[i]!, plain.grads[i]!, { atol: 1e-6, rtol: 1e-6 }, `grad of ${name}`));
  assert.equal(plain.forwardBytes, (B * H + B * O) * 4, 'the plain graph keeps the hidden activation');
  assert.equal(recomputed.forwardBytes, B * O * 4, 'the checkpointed forward keeps only its output');
});

test('checkpoint leaves no tensor behind once gradients are dropped', () => {
  const x = randn([B, D]).setRequiresGrad();
  const w1 = randn([D, H]).setRequiresGrad();
  const w2 = randn([H, O]).setRequiresGrad();
  const g = randn([B, O]);
  const count = Storage.liveCount;
  gradsOf(true, x, w1, w2, g);
  assert.equal(Storage.liveCount, count);
});

test('checkpoint propagates to weights passed as inputs when the activations need no grad', () => {
  const x = randn([B, D]);
  const w1 = randn([D, H]).setRequiresGrad();
  const w2 = randn([H, O]).setRequiresGrad();
  const g = randn([B, O]);
  block(w1, w2)(x).backward(g);
  const expected = [w1.grad!.toArray(), w2.grad!.toArray()];
  w1.zeroGrad();
  w2.zeroGrad();
  const out = checkpoint((input, a, b) => matmul(matmul(input, a), b), x, w1, w2);
  out.backward(g);
  assertClose(w1.grad!.toArray(), expected[0]!, { atol: 1e-6, rtol: 1e-6 }, 'grad of w1');
  assertClose(w2.grad!.toArray(), expected[1]!, { atol: 1e-6, rtol: 1e-6 }, 'grad of w2');
  assert.equal(checkpoint(block(w1, w2), x).requiresGrad, false, 'weights reached only through the closure do not join the graph');
});

test('checkpoint replays the default generator so random draws in the block repeat', () => {
  const x = randn([B, D]).setRequiresGrad();
  const noisy = (input: Tensor) => matmul(input, randn([D, O]));
  manualSeed(7);
  noisy(x).backward(randn([B, O]));
  const expected = x.grad!.toArray();
  x.zeroGrad();
  manualSeed(7);
  const out = checkpoint(noisy, x);
  const g = randn([B, O]);
  const afterForward = defaultGenerator.getState();
  out.backward(g);
  assertClose(x.grad!.toArray(), expected, { atol: 1e-6, rtol: 1e-6 }, 'grad of x');
  assert.deepEqual(defaultGenerator.getState(), afterForward, 'backward leaves the generator where the forward left it');
});

test('checkpoint rejects bad arguments with typed errors', () => {
  const x = randn([2, 2]);
  assert.throws(() => checkpoint(null as unknown as () => Tensor, x), (e: unknown) => e instanceof EngineError && /checkpoint: argument 'fn'/.test((e as Error).message));
  assert.throws(() => checkpoint(() => 3 as unknown as Tensor, x), /checkpoint: argument 'fn' must return a Tensor/);
  assert.throws(() => checkpoint((t) => t, x, 5 as unknown as Tensor), (e: unknown) => e instanceof DTypeError && /argument 'inputs\[1\]'/.test((e as Error).message));
});
