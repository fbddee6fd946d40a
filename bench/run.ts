// Entry point of `npm run bench -- <name> [--flags]`: runs bench/<name>.ts against PyTorch in the
// same command and prints a table and a final SUMMARY line. Every .ts file beside this one (other
// than run.ts) is a bench; see bench/README.md.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setNumThreads } from '../src/index.js';
import type { Bench, CaseResult, RunContext } from './harness/bench.js';
import { Flags } from './harness/flags.js';
import { measureCase } from './harness/measure.js';
import { printTable, summaryLine } from './harness/report.js';
import { TorchWorker } from './harness/torch-worker.js';

const HARNESS_FLAGS = {
  rounds: 'timed rounds per side, interleaved (default 7)',
  'round-ms': 'target length of one round in ms (default 100)',
  'warmup-ms': 'warm-up per side and case in ms (default 200)',
  threads: 'compute threads on both sides (default 2)',
  torch: 'compare with PyTorch (default; --no-torch measures ours only)',
};

function rssNowMb(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}

function availableBenches(): string[] {
  return readdirSync(dirname(fileURLToPath(import.meta.url)))
    .filter((f) => f.endsWith('.js') && f !== 'run.js')
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(args: string[]): Promise<void> {
  const [name, ...rest] = args;
  const benches = availableBenches();
  if (name === undefined || !benches.includes(name)) {
    throw new Error(`usage: npm run bench -- <name> [--flags]\n${name === undefined ? '' : `bench: unknown bench '${name}'. `}Benches: ${benches.join(', ')}`);
  }
  const { bench } = (await import(`./${name}.js`)) as { bench: Bench };
  const flags = new Flags(rest, { ...HARNESS_FLAGS, ...bench.flags });
  const threads = flags.number('threads', 2);
  if (!Number.isInteger(threads)) throw new Error(`bench: --threads must be an integer, got ${threads}`);
  setNumThreads(threads);
  const options = { rounds: Math.round(flags.number('rounds', 7)), roundMs: flags.number('round-ms', 100), warmupMs: flags.number('warmup-ms', 200) };
  const cases = bench.cases(flags);
  const torch = flags.bool('torch', true) ? await TorchWorker.start(threads) : null;
  try {
    const sides = torch ? `ours vs torch ${torch.torchVersion}; ${threads} threads each` : `ours only (--no-torch); ${threads} threads`;
    console.log(`${name}: ${bench.description}\n${sides}; ${options.rounds} rounds of ~${options.roundMs} ms; medians`);
    const baseline = { ours: rssNowMb(), torch: (await torch?.worker.rssMb())?.current };
    const results: CaseResult[] = [];
    for (const c of cases) {
      const subject = bench.ours(c);
      try {
        results.push(await measureCase(name, c, subject, torch?.worker ?? null, options));
      } finally {
        subject.dispose();
      }
    }
    const torchRss = await torch?.worker.rssMb();
    const context: RunContext = {
      rssMb: {
        ours: { baseline: baseline.ours, peak: process.resourceUsage().maxRSS / 1024 },
        torch: torchRss === undefined ? null : { baseline: baseline.torch!, peak: torchRss.peak },
      },
    };
    printTable(bench, results);
    for (const line of bench.notes?.(results, context) ?? []) console.log(line);
    console.log(summaryLine(name, bench, results, context));
  } finally {
    await torch?.worker.close();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
