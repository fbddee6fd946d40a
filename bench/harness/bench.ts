// What a benchmark file under bench/ exports: `export const bench: Bench = {...}`. The harness
// times `ours(case).run()` here and the Python function of the same name in bench/torch_worker.py
// on the same case parameters, in interleaved rounds.
import type { Flags } from './flags.js';

export interface BenchCase {
  /** Row label in the table. */
  label: string;
  /** Passed as-is (JSON) to the Python function; ours() reads them too. */
  params: Record<string, unknown>;
  /** Work per call (e.g. FLOPs) when the bench reports throughput. */
  work?: number;
}

/** One side's callable for a case (async for whole generation runs). */
export interface Subject {
  run(): void | Promise<void>;
  dispose(): void;
}

export interface CaseResult {
  case: BenchCase;
  /** Median seconds per call over the rounds, and the rounds' relative spread. */
  ours: { seconds: number; spread: number };
  torch: { seconds: number; spread: number } | null;
}

/** Peak and start-of-run resident memory of each process, in MB. */
export interface RunContext {
  rssMb: { ours: { baseline: number; peak: number }; torch: { baseline: number; peak: number } | null };
}

export interface Bench {
  description: string;
  /** Bench-specific flags (name -> help); the harness adds its own. */
  flags?: Record<string, string>;
  /** Throughput unit for cases with `work` (work / seconds / scale), e.g. GFLOP/s with scale 1e9. */
  throughput?: { unit: string; scale: number };
  cases(flags: Flags): BenchCase[];
  ours(c: BenchCase): Subject;
  /** Lines printed after the table. */
  notes?(results: readonly CaseResult[], context: RunContext): string[];
  /** key=value pairs for the SUMMARY line after `<name>_ratio_vs_torch`. */
  summary?(results: readonly CaseResult[], context: RunContext): Record<string, number>;
}
