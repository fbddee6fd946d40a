// Timing protocol shared by every bench: each side is warmed up while calibrating how many calls
// fill one round, then the two sides alternate (ours first on even rounds, PyTorch first on odd
// ones) so drift from other load on the machine hits both alike. Reports medians per call.
import type { BenchCase, CaseResult, Subject } from './bench.js';
import { median, relativeSpread } from './stats.js';
import type { TorchWorker } from './torch-worker.js';

export interface MeasureOptions {
  rounds: number;
  roundMs: number;
  warmupMs: number;
}

/** Seconds for `iters` calls of one side. */
type Timer = (iters: number) => Promise<number>;

function timerOf(subject: Subject): Timer {
  return async (iters) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) {
      const pending = subject.run();
      if (pending !== undefined) await pending;
    }
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
}

/**
 * Runs the side for at least warmupMs and at least twice (1 call, then 2: caches and allocators are
 * warm even when one call outlasts warmupMs), doubling the call count; returns calls per round.
 */
async function warmUp(time: Timer, { warmupMs, roundMs }: MeasureOptions): Promise<number> {
  let iters = 1;
  let spent = 0;
  let perCall = 0;
  while (spent * 1e3 < warmupMs || iters <= 2) {
    const s = await time(iters);
    spent += s;
    perCall = s / iters;
    iters *= 2;
  }
  return Math.max(1, Math.round(roundMs / 1e3 / perCall));
}

export async function measureCase(benchName: string, c: BenchCase, subject: Subject, torch: TorchWorker | null, options: MeasureOptions): Promise<CaseResult> {
  const sides: { time: Timer; iters: number; samples: number[] }[] = [{ time: timerOf(subject), iters: 0, samples: [] }];
  if (torch !== null) {
    await torch.prepare(benchName, c.params);
    sides.push({ time: (iters) => torch.time(iters), iters: 0, samples: [] });
  }
  for (const side of sides) side.iters = await warmUp(side.time, options);
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) side.samples.push((await side.time(side.iters)) / side.iters);
  }
  if (torch !== null) await torch.release();
  const summarize = (samples: number[]) => ({ seconds: median(samples), spread: relativeSpread(samples) });
  return { case: c, ours: summarize(sides[0]!.samples), torch: torch === null ? null : summarize(sides[1]!.samples) };
}
