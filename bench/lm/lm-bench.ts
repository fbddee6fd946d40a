// The `train` and `forward` benches: one step of a LoRA causal LM on both sides (see models.ts),
// reported as tokens/s, achieved GFLOP/s next to the GEMM and FMA peaks measured in the same run,
// and each process's peak RSS.
import { getNumThreads, matmul, noGrad, randn, scope } from '../../src/index.js';
import type { Bench, CaseResult, RunContext, Subject } from '../harness/bench.js';
import { fmaPeakGflops } from '../harness/fma-peak.js';
import { buildOurs, flopsPerToken, LM_FLAGS, lmCase, type LmMode, type LmParams } from './models.js';

const PEAK_SHAPE = [1024, 768, 3072] as const;

/** Best of a few timed 1024x768x3072 GEMMs (output allocation included): what this core count can do now. */
function gemmPeakGflops(): number {
  const [m, k, n] = PEAK_SHAPE;
  const a = randn([m, k]);
  const b = randn([k, n]);
  let best = Infinity;
  for (let i = 0; i < 12; i++) {
    const start = process.hrtime.bigint();
    matmul(a, b).dispose();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  a.dispose();
  b.dispose();
  return (2 * m * k * n) / best / 1e9;
}

function subject(p: LmParams): Subject {
  const { model, inputIds, optimizer } = buildOurs(p);
  const run =
    optimizer === null
      ? () => noGrad(() => scope(() => void model.forward({ inputIds }).logits))
      : () => {
          scope(() => model.forward({ inputIds, labels: inputIds }).loss!.backward());
          optimizer.step();
          optimizer.zeroGrad();
        };
  return {
    run,
    dispose: () => {
      optimizer?.dispose();
      model.dispose();
      inputIds.dispose();
    },
  };
}

const mb = (v: number) => `${Math.round(v)} MB`;
const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(0)}%`;

/** The FMA peak, or why it could not be measured (the probe needs a C++ compiler). */
function fmaPeakOrReason(threads: number): number | string {
  try {
    return fmaPeakGflops(threads);
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
}

function notes(results: readonly CaseResult[], ctx: RunContext): string[] {
  const peak = gemmPeakGflops();
  const fmaPeak = fmaPeakOrReason(getNumThreads());
  const lines: string[] = [];
  for (const r of results) {
    const p = r.case.params as unknown as LmParams;
    const flops = flopsPerToken(p);
    const side = (name: string, seconds: number) => {
      const gflops = (flops * r.case.work!) / seconds / 1e9;
      const ofFma = typeof fmaPeak === 'number' ? `, ${percent(gflops, fmaPeak)} of FMA peak` : '';
      return `${name} ${gflops.toFixed(1)} GFLOP/s (${percent(gflops, peak)} of GEMM peak${ofFma})`;
    };
    lines.push(`${r.case.label}: ${(flops / 1e6).toFixed(1)} MFLOP/token; ${side('ours', r.ours.seconds)}${r.torch ? `, ${side('torch', r.torch.seconds)}` : ''}`);
  }
  lines.push(`GEMM peak ${PEAK_SHAPE.join('x')}: ${peak.toFixed(1)} GFLOP/s (best of 12, ours)`);
  lines.push(
    typeof fmaPeak === 'number'
      ? `FMA peak (fp32, registers only, ${getNumThreads()} threads): ${fmaPeak.toFixed(1)} GFLOP/s; the GEMM peak is ${percent(peak, fmaPeak)} of it`
      : `FMA peak: not measured (${fmaPeak})`,
  );
  const { ours, torch } = ctx.rssMb;
  lines.push(`peak RSS: ours ${mb(ours.peak)} (process baseline ${mb(ours.baseline)})${torch ? `, torch ${mb(torch.peak)} (process baseline ${mb(torch.baseline)})` : ''}`);
  return lines;
}

export function lmBench(mode: LmMode): Bench {
  const what = mode === 'train' ? 'forward + causal-LM loss + backward + AdamW on the LoRA parameters' : 'forward to the logits without a graph (eval mode)';
  return {
    description: `one LoRA step of a random-initialised causal LM (r=8, alpha=16): ${what}; tokens/s`,
    flags: LM_FLAGS,
    throughput: { unit: 'tokens/s', scale: 1 },
    cases: (flags) => [lmCase(mode, flags)],
    ours: (c) => subject(c.params as unknown as LmParams),
    notes,
    summary: (_results, ctx): Record<string, number> => (ctx.rssMb.torch ? { rss_ratio_vs_torch: ctx.rssMb.ours.peak / ctx.rssMb.torch.peak } : {}),
  };
}
