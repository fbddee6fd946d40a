// A small self-contained SVG line chart of the training loss and the evaluation loss over the steps of
// a log history (no scripts, no external styles). The output depends only on the history.
import type { LogEntry } from './trainable.js';

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 64, right: 20, top: 36, bottom: 44 };
const SERIES = [
  { key: 'loss', label: 'train loss', color: '#1f77b4' },
  { key: 'eval_loss', label: 'eval loss', color: '#ff7f0e' },
] as const;

type Point = [number, number];

function points(history: readonly LogEntry[], key: string): Point[] {
  return history.filter((e) => Number.isFinite(e[key]) && Number.isFinite(e['step'])).map((e) => [e['step']!, e[key]!]);
}

/** Round tick values at a 1/2/5 × 10^k spacing covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  return String(Number(v.toPrecision(4)));
}

const fixed = (v: number) => v.toFixed(1);

export function lossChartSvg(history: readonly LogEntry[]): string {
  const series = SERIES.map((s) => ({ ...s, points: points(history, s.key) }));
  const all = series.flatMap((s) => s.points);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  ];
  if (all.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#666666">no loss logged yet</text>`, '</svg>', '');
    return out.join('\n');
  }
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(0, ...xs), Math.max(1, ...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const pad = y1 > y0 ? (y1 - y0) * 0.05 : Math.max(Math.abs(y0) * 0.05, 0.05);
  [y0, y1] = [y0 - pad, y1 + pad];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotH;
  const bottom = MARGIN.top + plotH;
  for (const y of ticks(y0, y1)) {
    out.push(`<line x1="${MARGIN.left}" y1="${fixed(py(y))}" x2="${MARGIN.left + plotW}" y2="${fixed(py(y))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${fixed(py(y) + 4)}" text-anchor="end" fill="#444444">${label(y)}</text>`);
  }
  for (const x of ticks(x0, x1).filter(Number.isInteger)) {
    out.push(`<line x1="${fixed(px(x))}" y1="${bottom}" x2="${fixed(px(x))}" y2="${bottom + 4}" stroke="#444444"/>`);
    out.push(`<text x="${fixed(px(x))}" y="${bottom + 18}" text-anchor="middle" fill="#444444">${label(x)}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444444"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" fill="#444444">step</text>`);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const path = s.points.map(([x, y]) => `${fixed(px(x))},${fixed(py(y))}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    if (s.key === 'eval_loss') for (const [x, y] of s.points) out.push(`<circle cx="${fixed(px(x))}" cy="${fixed(py(y))}" r="3" fill="${s.color}"/>`);
    const lx = MARGIN.left + i * 120;
    out.push(`<line x1="${lx}" y1="18" x2="${lx + 20}" y2="18" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 26}" y="22" fill="#222222">${s.label}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
