// Forward + backward of the ops a GPT-2-small training step spends its non-GEMM time in, at that
// model's shapes (B=4, T=256, d=768, 12 heads, vocab 50257), vs PyTorch doing the same with
// autograd. Every case computes the gradients of all float inputs (x, and weight/bias for norms).
import {
  crossEntropy, fromArray, gelu, keep, layerNorm, randn, reshape, rmsNorm, scaledDotProductAttention, scope, softmax,
  type Tensor,
} from '../src/index.js';
import type { Bench, Subject } from './harness/bench.js';

const B = 4, T = 256, D = 768, H = 12, V = 50257;

interface OpCase {
  /** Builds the leaves (float ones require grad) and the function from them to the output. */
  setup(): { leaves: Tensor[]; others: Tensor[]; forward(): Tensor };
}

const leaf = (shape: number[], std = 1) => randn(shape, { std }).setRequiresGrad();

const CASES: Record<string, OpCase> = {
  layerNorm: {
    setup: () => {
      const [x, w, b] = [leaf([B, T, D]), leaf([D]), leaf([D])];
      return { leaves: [x, w, b], others: [], forward: () => layerNorm(x, w, b, 1e-5) };
    },
  },
  rmsNorm: {
    setup: () => {
      const [x, w] = [leaf([B, T, D]), leaf([D])];
      return { leaves: [x, w], others: [], forward: () => rmsNorm(x, w, 1e-6) };
    },
  },
  softmax: {
    setup: () => {
      const x = leaf([B, H, T, T]);
      return { leaves: [x], others: [], forward: () => softmax(x, -1) };
    },
  },
  gelu: {
    setup: () => {
      const x = leaf([B, T, 4 * D]);
      return { leaves: [x], others: [], forward: () => gelu(x, { approximate: 'tanh' }) };
    },
  },
  attention: {
    setup: () => {
      const [q, k, v] = [leaf([B, H, T, D / H]), leaf([B, H, T, D / H]), leaf([B, H, T, D / H])];
      return { leaves: [q, k, v], others: [], forward: () => scaledDotProductAttention(q, k, v, { causal: true }) };
    },
  },
  crossEntropy: {
    setup: () => {
      const logits = leaf([B * T, V]);
      const targets = fromArray(Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % V), [B * T], 'int32');
      return { leaves: [logits], others: [targets], forward: () => crossEntropy(logits, targets) };
    },
  },
};

function subject(name: string): Subject {
  const { leaves, others, forward } = CASES[name]!.setup();
  return {
    run: () =>
      scope(() => {
        const y = forward();
        y.backward(y.size === 1 ? undefined : randnLike(y));
        for (const t of leaves) t.zeroGrad();
      }),
    dispose: () => [...leaves, ...others].forEach((t) => t.dispose()),
  };
}

const upstream = new Map<string, Tensor>();
/** One fixed upstream gradient per output shape (made once, outside the timed region's cost). */
function randnLike(y: Tensor): Tensor {
  const key = y.shape.join('x');
  let g = upstream.get(key);
  if (g === undefined) {
    g = keep(randn(y.shape));
    upstream.set(key, g);
  }
  return g;
}

/** µs per call of a tiny op (a reshape of a 4-element tensor), the engine's dispatch floor. */
function dispatchMicros(): number {
  const x = fromArray([1, 2, 3, 4], [2, 2]);
  const n = 200_000;
  for (let i = 0; i < 10_000; i++) reshape(x, [4]).dispose();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) reshape(x, [4]).dispose();
  const us = Number(process.hrtime.bigint() - start) / 1e3 / n;
  x.dispose();
  return us;
}

export const bench: Bench = {
  description: `forward + backward at GPT-2-small shapes (B=${B}, T=${T}, d=${D}, ${H} heads, vocab ${V})`,
  cases: () => Object.keys(CASES).map((op) => ({ label: op, params: { op, B, T, D, H, V } })),
  ours: (c) => subject(c.params.op as string),
  summary: () => ({ dispatch_us: dispatchMicros() }),
};
