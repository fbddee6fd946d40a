// The CPU's fp32 FMA peak, measured by bench/native/fma-peak.cc: the ceiling that no fp32 kernel
// can pass, beside which the GEMM peak and each side's achieved GFLOP/s are read.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../../../bench/native/fma-peak.cc', import.meta.url));

/** Builds the probe once per source version (g++, or $CXX) and returns the executable's path. */
function probeExecutable(): string {
  const source = readFileSync(SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'peftjs-bench');
  const exe = join(dir, `fma-peak-${digest}`);
  if (existsSync(exe)) return exe;
  mkdirSync(dir, { recursive: true });
  const staged = `${exe}.${process.pid}.tmp`;
  execFileSync(process.env.CXX ?? 'g++', ['-O3', '-march=native', '-ffp-contract=fast', SOURCE, '-o', staged, '-lpthread'], { stdio: 'pipe' });
  renameSync(staged, exe);
  return exe;
}

/** Best of three 0.3 s rounds of register-only FMA chains on `threads` threads, in GFLOP/s. */
export function fmaPeakGflops(threads: number): number {
  const out = execFileSync(probeExecutable(), [String(threads), '3', '0.3'], { encoding: 'utf8' });
  const gflops = Number(out.trim());
  if (!(gflops > 0)) throw new Error(`fma-peak printed ${JSON.stringify(out)}, expected a GFLOP/s figure`);
  return gflops;
}
