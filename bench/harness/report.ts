// The printed result of a bench: one row per case (ours, PyTorch, ratio, noise) and a last line
// `SUMMARY <name>_ratio_vs_torch=<geometric mean of our throughput over PyTorch's> key=value ...`.
import type { Bench, CaseResult, RunContext } from './bench.js';
import { geometricMean } from './stats.js';

function format(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v);
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function printTable(bench: Bench, results: readonly CaseResult[]): void {
  const tp = bench.throughput;
  const value = (r: CaseResult, seconds: number) => (tp && r.case.work !== undefined ? r.case.work / seconds / tp.scale : seconds * 1e6);
  const unit = tp ? tp.unit : 'µs/call';
  const rows = [['case', `ours ${unit}`, `torch ${unit}`, 'ours/torch', 'noise ours/torch']];
  for (const r of results) {
    rows.push([
      r.case.label,
      format(value(r, r.ours.seconds)),
      r.torch ? format(value(r, r.torch.seconds)) : '-',
      r.torch ? `${format(r.torch.seconds / r.ours.seconds)}x` : '-',
      `±${(r.ours.spread * 100).toFixed(1)}%${r.torch ? ` / ±${(r.torch.spread * 100).toFixed(1)}%` : ''}`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(pad(row, widths));
}

/** ours/torch throughput per case is torch seconds over our seconds. */
export function summaryLine(name: string, bench: Bench, results: readonly CaseResult[], context: RunContext): string {
  const pairs: Record<string, number> = {};
  const compared = results.filter((r) => r.torch !== null);
  if (compared.length > 0) pairs[`${name}_ratio_vs_torch`] = geometricMean(compared.map((r) => r.torch!.seconds / r.ours.seconds));
  Object.assign(pairs, bench.summary?.(results, context) ?? {});
  return `SUMMARY ${Object.entries(pairs).map(([k, v]) => `${k}=${format(v)}`).join(' ')}`;
}
