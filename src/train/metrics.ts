// The run's metrics in the output folder: metrics.jsonl (one JSON object per log or evaluation entry,
// with transformers' log_history keys: step, epoch, loss, learning_rate, grad_norm,
// tokens_per_second, eval_loss, …) and loss.svg (train and eval loss), rewritten atomically on each
// entry. On resume both are rebuilt from the checkpoint's history, dropping entries logged after it.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomic } from '../io/atomic-write.js';
import { lossChartSvg } from './plot.js';
import type { LogEntry } from './trainable.js';

export const METRICS_FILE = 'metrics.jsonl';
export const LOSS_CHART_FILE = 'loss.svg';

export class MetricsFiles {
  constructor(private readonly outputDir: string) {}

  /** Appends the newest entry of `history` and redraws the chart. */
  append(history: readonly LogEntry[]): void {
    mkdirSync(this.outputDir, { recursive: true });
    appendFileSync(join(this.outputDir, METRICS_FILE), `${JSON.stringify(history.at(-1))}\n`);
    this.draw(history);
  }

  /** Replaces both files with the given history. */
  rewrite(history: readonly LogEntry[]): void {
    mkdirSync(this.outputDir, { recursive: true });
    writeTextAtomic(join(this.outputDir, METRICS_FILE), history.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.draw(history);
  }

  private draw(history: readonly LogEntry[]): void {
    writeTextAtomic(join(this.outputDir, LOSS_CHART_FILE), lossChartSvg(history));
  }
}
