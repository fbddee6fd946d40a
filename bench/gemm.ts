// GEMM throughput: matmul(a, b) of float32 matrices, including the output allocation, vs
// torch.matmul. The default shapes are a BERT-base-sized Linear (hidden 768, FFN 3072) over 1024
// tokens and the thin products of LoRA (rank 16 and 64) over 4096 tokens. With --operands N each
// call takes the next of N distinct (a, b) pairs, so operands come from memory rather than cache,
// as they do in a model step where every layer has its own weights and activations.
import { matmul, randn } from '../src/index.js';
import type { Bench } from './harness/bench.js';
import { geometricMean } from './harness/stats.js';

const DEFAULT_SHAPES = '1024x768x768,1024x768x3072,1024x3072x768,4096x768x16,4096x16x768,4096x64x768';

function parseShapes(spec: string): [number, number, number][] {
  return spec.split(',').map((s) => {
    const dims = s.split('x').map(Number);
    if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`gemm: --shapes entry '${s}' is not MxKxN`);
    return dims as [number, number, number];
  });
}

export const bench: Bench = {
  description: 'C[M,N] = A[M,K] · B[K,N], float32',
  flags: {
    shapes: `comma-separated MxKxN list (default ${DEFAULT_SHAPES})`,
    operands: 'distinct (a, b) pairs cycled through, one per call (default 1)',
  },
  throughput: { unit: 'GFLOP/s', scale: 1e9 },
  cases: (flags) => {
    const operands = flags.number('operands', 1);
    if (!Number.isInteger(operands)) throw new Error(`gemm: --operands must be a whole number, got ${operands}`);
    return parseShapes(flags.string('shapes') ?? DEFAULT_SHAPES).map(([m, k, n]) => ({
      label: operands === 1 ? `${m}x${k}x${n}` : `${m}x${k}x${n} (${operands} operand pairs)`,
      params: { m, k, n, operands },
      work: 2 * m * k * n,
    }));
  },
  ours: (c) => {
    const { m, k, n, operands } = c.params as { m: number; k: number; n: number; operands: number };
    const pairs = Array.from({ length: operands }, () => [randn([m, k]), randn([k, n])] as const);
    let next = 0;
    return {
      run: () => {
        const [a, b] = pairs[next]!;
        next = (next + 1) % pairs.length;
        matmul(a, b).dispose();
      },
      dispose: () => {
        for (const pair of pairs) for (const t of pair) t.dispose();
      },
    };
  },
  summary: (results) => {
    const gflops = (seconds: number, work: number) => work / seconds / 1e9;
    const out: Record<string, number> = { gemm_gflops_ours: geometricMean(results.map((r) => gflops(r.ours.seconds, r.case.work!))) };
    const compared = results.filter((r) => r.torch !== null);
    if (compared.length > 0) out.gemm_gflops_torch = geometricMean(compared.map((r) => gflops(r.torch!.seconds, r.case.work!)));
    return out;
  },
};
