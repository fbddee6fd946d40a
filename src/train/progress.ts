// Progress display. On a terminal: one line rewritten after every step (step/total, loss, learning
// rate, tokens/s, ETA), with log entries printed above it. Elsewhere (pipes, files, CI logs): one
// plain line per log or evaluation entry and nothing per step.
import type { LogEntry } from './trainable.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface StepInfo {
  step: number;
  loss: number;
  learningRate: number;
  /** Input tokens of this step (0 when the batches have no inputIds). */
  tokens: number;
}

/** A number in a short readable form: integers as they are, others with 4 significant digits. */
function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

/** The plain-text form of a log entry: `step 10/100 epoch 0.5 loss 2.31 learning_rate 4.5e-5 …`. */
function formatLogEntry(entry: LogEntry, maxSteps: number): string {
  const rest = Object.entries(entry).filter(([k]) => k !== 'step').map(([k, v]) => `${k} ${formatNumber(v)}`);
  return [`step ${entry['step']}/${maxSteps}`, ...rest].join('  ');
}

export class Progress {
  private readonly started = performance.now();
  private steps = 0;
  private tokens = 0;
  private lineShown = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly maxSteps: number,
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  step(info: StepInfo): void {
    this.steps++;
    this.tokens += info.tokens;
    if (!this.tty) return;
    const elapsed = (performance.now() - this.started) / 1000;
    const parts = [`step ${info.step}/${this.maxSteps}`, `loss ${formatNumber(info.loss)}`, `lr ${info.learningRate.toExponential(2)}`];
    if (this.tokens > 0) parts.push(`${Math.round(this.tokens / elapsed)} tok/s`);
    parts.push(`ETA ${formatDuration((elapsed / this.steps) * (this.maxSteps - info.step))}`);
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    this.stream.write(`\r${parts.join(' | ').slice(0, width)}\x1b[K`);
    this.lineShown = true;
  }

  log(entry: LogEntry): void {
    this.note(formatLogEntry(entry, this.maxSteps));
  }

  /** A message line (printed above the progress line on a terminal). */
  note(text: string): void {
    this.stream.write(this.tty && this.lineShown ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.lineShown = false;
  }

  /** Ends the progress line. */
  close(): void {
    if (this.tty && this.lineShown) this.stream.write('\n');
    this.lineShown = false;
  }
}
