// Per-call overhead of tiny ops (argument checks, handle creation, the native call, disposal), in
// µs per call, vs the same calls in PyTorch from Python.
import { matmul, randn, reshape, zeros, type Tensor } from '../src/index.js';
import type { Bench, Subject } from './harness/bench.js';

const OPS: Record<string, () => Subject> = {
  reshape: () => {
    const x = randn([4, 4]);
    return { run: () => reshape(x, [16]).dispose(), dispose: () => x.dispose() };
  },
  matmul: () => {
    const [a, b] = [randn([1, 1]), randn([1, 1])];
    return { run: () => matmul(a, b).dispose(), dispose: () => [a, b].forEach((t: Tensor) => t.dispose()) };
  },
  zeros: () => ({ run: () => zeros([4]).dispose(), dispose: () => undefined }),
};

export const bench: Bench = {
  description: 'time per call of tiny ops: reshape [4,4]->[16], matmul 1x1·1x1, zeros [4]',
  cases: () => Object.keys(OPS).map((op) => ({ label: op, params: { op } })),
  ours: (c) => OPS[c.params.op as string]!(),
  summary: (results) =>
    Object.fromEntries(
      results.flatMap((r) => [
        [`dispatch_us_${r.case.label}`, r.ours.seconds * 1e6],
        ...(r.torch ? [[`dispatch_us_${r.case.label}_torch`, r.torch.seconds * 1e6]] : []),
      ]),
    ),
};
