// Bar chart (SVG) of the ours/torch throughput ratios in saved bench printouts: each printout's
// table rows become one bar each, labelled with the bench name and the case; a dashed line marks
// parity (ratio 1).
export interface RatioBar {
  label: string;
  ratio: number;
}

/** The rows of the table in one bench printout: `<bench>: …` first, then `case …` and its rows. */
export function parseBenchOutput(text: string, source: string): RatioBar[] {
  const lines = text.split('\n');
  const bench = /^([a-z0-9-]+): /.exec(lines[0] ?? '')?.[1];
  if (bench === undefined) throw new Error(`plot: ${source} does not start with a bench's '<name>: <description>' line`);
  const header = lines.findIndex((l) => l.startsWith('case '));
  if (header < 0) throw new Error(`plot: ${source} has no results table (a line starting with 'case')`);
  const bars: RatioBar[] = [];
  for (const line of lines.slice(header + 1)) {
    const cells = line.trim().split(/\s{2,}/);
    const ratio = /^([0-9.]+)x$/.exec(cells[3] ?? '')?.[1];
    if (cells.length < 4 || ratio === undefined) break;
    bars.push({ label: `${bench} · ${cells[0]}`, ratio: Number(ratio) });
  }
  if (bars.length === 0) throw new Error(`plot: ${source} has a table without ours/torch ratios (run the bench with PyTorch)`);
  return bars;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars of the ratios, a dashed line at 1. */
export function ratioChart(bars: readonly RatioBar[], title: string): string {
  const rowHeight = 26;
  const left = 300;
  const width = 760;
  const top = 40;
  const height = top + bars.length * rowHeight + 40;
  const max = Math.max(2, Math.ceil(Math.max(...bars.map((b) => b.ratio)) * 2) / 2);
  const x = (v: number) => left + (v / max) * (width - left - 60);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escape(title)}</text>`,
  ];
  for (let v = 0; v <= max + 1e-9; v += 0.5) {
    parts.push(`<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${height - 34}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(v)}" y="${height - 20}" text-anchor="middle">${v.toFixed(1)}×</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowHeight;
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escape(b.label)}</text>`);
    parts.push(`<rect x="${x(0)}" y="${y + 3}" width="${x(b.ratio) - x(0)}" height="${rowHeight - 8}" fill="${b.ratio >= 1 ? '#2a9d8f' : '#e76f51'}"/>`);
    parts.push(`<text x="${x(b.ratio) + 6}" y="${y + 15}">${b.ratio.toFixed(2)}×</text>`);
  });
  parts.push(`<line x1="${x(1)}" y1="${top - 6}" x2="${x(1)}" y2="${height - 34}" stroke="#333" stroke-dasharray="4 3"/>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
