// Fused attention against torch.nn.functional.scaled_dot_product_attention at the same shapes and
// thread count: median (and minimum) milliseconds of the forward and of forward + backward.
// The machine may be shared, so both sides run in alternating rounds and each keeps its best round.
// Usage: node dist/bench/attention.js [B H T D [reps [rounds]]]
//        (PEFTJS_PYTHON overrides .venv-py/bin/python)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getNumThreads, Generator, noGrad, randn, scaledDotProductAttention, scope } from '../src/index.js';
import { repoRoot } from '../tests/helpers/paths.js';

type Timings = Record<string, [median: number, min: number]>;

const [B, H, T, D, reps, rounds] = [4, 12, 256, 64, 15, 3].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number, number, number, number];
const threads = getNumThreads();
const gen = new Generator(0);
const [q, k, v] = [0, 1, 2].map(() => randn([B, H, T, D], { generator: gen }).setRequiresGrad()) as [ReturnType<typeof randn>, ReturnType<typeof randn>, ReturnType<typeof randn>];
const grad = randn([B, H, T, D], { generator: gen });

function timingsMs(fn: () => void): [number, number] {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return [times[Math.floor(times.length / 2)]!, times[0]!];
}

function runOurs(): Timings {
  const result: Timings = {};
  for (const causal of [false, true]) {
    const tag = causal ? ' causal' : '';
    result[`forward${tag}`] = timingsMs(() => scope(() => void noGrad(() => scaledDotProductAttention(q, k, v, { causal }))));
    result[`forward+backward${tag}`] = timingsMs(() =>
      scope(() => {
        scaledDotProductAttention(q, k, v, { causal }).backward(grad);
        for (const t of [q, k, v]) t.zeroGrad();
      }),
    );
  }
  return result;
}

const python = process.env.PEFTJS_PYTHON ?? join(repoRoot, '.venv-py', 'bin', 'python');
const hasTorch = existsSync(python);

function runTorch(): Timings {
  const args = [join(repoRoot, 'bench', 'attention.py'), ...[B, H, T, D, threads, reps].map(String)];
  return JSON.parse(execFileSync(python, args, { encoding: 'utf8' })) as Timings;
}

function keepBest(best: Timings, round: Timings): void {
  for (const [name, t] of Object.entries(round)) {
    const prev = best[name];
    best[name] = prev === undefined ? t : [Math.min(prev[0], t[0]), Math.min(prev[1], t[1])];
  }
}

const ours: Timings = {};
const torch: Timings = {};
for (let r = 0; r < rounds; r++) {
  keepBest(ours, runOurs());
  if (hasTorch) keepBest(torch, runTorch());
}

console.log(`attention B=${B} H=${H} T=${T} D=${D}, ${threads} threads, best of ${rounds} rounds of ${reps} runs: median (min) ms`);
const show = ([median, min]: [number, number]) => `${median.toFixed(2).padStart(7)} (${min.toFixed(2).padStart(6)})`;
for (const [name, ms] of Object.entries(ours)) {
  const ref = torch[name];
  const vs = ref === undefined ? '' : `   torch ${show(ref)}   ratio ${(ms[0] / ref[0]).toFixed(2)} (${(ms[1] / ref[1]).toFixed(2)})`;
  console.log(`  ${name.padEnd(24)} peftjs ${show(ms)}${vs}`);
}
