// AdaLoRA's rank allocator (PEFT's RankAllocator): after each optimizer step it updates, for every entry of the
// adapter's A, E and B, an exponential moving average of the sensitivity |w · ∂L/∂w| (beta1) and of its uncertainty
// |sensitivity - average| (beta2). On allocation steps each triplet (row of A, entry of E, column of B) is scored by
// E's score plus the mean scores of its A row and B column, and every triplet at or below the k-th lowest score
// (k = initial budget - current budget) has its E entry zeroed. The arithmetic runs in float32 steps, as torch's does,
// so that the pruned triplets are the same.
import type { Tensor } from '../../../engine/tensor.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError, ConfigError } from '../../errors.js';
import type { AdaLoraConfig, AdaLoraRankPattern } from './config.js';

const f32 = Math.fround;

export interface Allocation {
  budget: number;
  /** The triplets kept per lora_E parameter; null when this step did not allocate. */
  rankPattern: AdaLoraRankPattern | null;
}

/** Mean over the rows (`alongRows`) or columns of a [rows, cols] score matrix: one value per column or row. */
function means(scores: Float32Array, rows: number, cols: number, alongRows: boolean): Float32Array {
  const sums = new Float64Array(alongRows ? cols : rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sums[alongRows ? j : i]! += scores[i * cols + j]!;
  const n = alongRows ? rows : cols;
  return Float32Array.from(sums, (v) => v / n);
}

export class RankAllocator {
  /** Total rank of the adapter's layers at the start. */
  readonly initBudget: number;
  /** Total rank the budget shrinks to: target_r per layer. */
  readonly targetBudget: number;
  private expAvgIpt = new Map<string, Float32Array>();
  private expAvgUnc = new Map<string, Float32Array>();

  constructor(
    model: Module,
    private readonly config: AdaLoraConfig,
    readonly adapterName: string,
  ) {
    for (const key of ['beta1', 'beta2'] as const) {
      const v = config[key];
      if (!(v > 0 && v < 1)) throw new ConfigError(key, `must lie strictly between 0 and 1 for the rank allocator, got ${v}`);
    }
    const layers = this.parameters(model, 'lora_A');
    this.initBudget = layers.reduce((n, [, p]) => n + p.shape[0]!, 0);
    this.targetBudget = config.targetR * new Set(layers.map(([n]) => n.replaceAll('lora_A', '%s'))).size;
  }

  /** The adapter's parameters of one kind (`lora_A`, `lora_E`, `lora_B`), by name, in model order. */
  private parameters(model: Module, kind: string): [string, Tensor][] {
    return model.namedParameters().filter(([n]) => n.includes(`${kind}.${this.adapterName}`));
  }

  /** Forgets the averages (done once the final budget is allocated). */
  resetIpt(): void {
    this.expAvgIpt = new Map();
    this.expAvgUnc = new Map();
  }

  /** The budget at `step` and whether the step masks: full budget up to tinit, target_r·layers after total_step - tfinal. */
  budgetSchedule(step: number): { budget: number; mask: boolean } {
    const { tinit, tfinal, deltaT } = this.config;
    const totalStep = this.config.totalStep!;
    if (step <= tinit) return { budget: this.initBudget, mask: false };
    if (step > totalStep - tfinal) return { budget: this.targetBudget, mask: true };
    const coeff = 1 - (step - tinit) / (totalStep - tfinal - tinit);
    const budget = Math.trunc((this.initBudget - this.targetBudget) * coeff ** 3 + this.targetBudget);
    return { budget, mask: step % deltaT === 0 };
  }

  /** Updates the sensitivity and uncertainty averages from the adapter's current values and gradients. */
  updateIpt(model: Module): void {
    const b1 = f32(this.config.beta1);
    const b2 = f32(this.config.beta2);
    const c1 = f32(1 - this.config.beta1);
    const c2 = f32(1 - this.config.beta2);
    for (const [n, p] of model.namedParameters()) {
      if (!n.includes('lora_') || !n.includes(this.adapterName)) continue;
      const grad = p.grad;
      if (grad === null) throw new AdapterError(`${n} has no gradient: call updateAndAllocate after backward() and before the gradients are zeroed`);
      const w = p.data();
      const g = grad.data();
      const avg = this.expAvgIpt.get(n) ?? new Float32Array(p.size);
      const unc = this.expAvgUnc.get(n) ?? new Float32Array(p.size);
      for (let i = 0; i < p.size; i++) {
        const ipt = Math.abs(f32(w[i]! * g[i]!));
        avg[i] = f32(b1 * avg[i]!) + f32(c1 * ipt);
        unc[i] = f32(b2 * unc[i]!) + f32(c2 * Math.abs(f32(ipt - avg[i]!)));
      }
      this.expAvgIpt.set(n, avg);
      this.expAvgUnc.set(n, unc);
    }
  }

  private elementScore(n: string): Float32Array {
    const avg = this.expAvgIpt.get(n);
    const unc = this.expAvgUnc.get(n);
    if (avg === undefined || unc === undefined) throw new AdapterError(`${n}: no sensitivity recorded yet; updateAndAllocate must run on training steps before total_step - tfinal (the averages are not saved in checkpoints, so a run resumed at that step has none)`);
    return avg.map((v, i) => v * unc[i]!);
  }

  /** Zeroes the E entries of the lowest-scoring triplets so that `budget` of them remain; returns what is kept. */
  maskToBudget(model: Module, budget: number): AdaLoraRankPattern {
    const triplets = new Map<string, Float32Array>();
    const Bs = new Map(this.parameters(model, 'lora_B').map(([n, p]) => [n.replaceAll('lora_B', 'lora_E'), [n, p] as const]));
    for (const [nA, A] of this.parameters(model, 'lora_A')) {
      const nE = nA.replaceAll('lora_A', 'lora_E');
      const [nB, B] = Bs.get(nE)!;
      const [r, inF] = A.shape as [number, number];
      const a = means(this.elementScore(nA), r, inF, false);
      const b = means(this.elementScore(nB), B.shape[0]!, r, true);
      const e = this.elementScore(nE);
      triplets.set(nE, e.map((v, i) => v + f32(a[i]! + b[i]!)));
    }
    const k = this.initBudget - budget;
    if (k < 1) {
      throw new AdapterError(`the rank budget (${budget}) is not below the initial total rank (${this.initBudget}); target_r must be smaller than init_r`);
    }
    const all = Float32Array.from([...triplets.values()].flatMap((s) => [...s])).sort();
    const threshold = all[k - 1]!;
    const pattern: AdaLoraRankPattern = {};
    for (const [nE, E] of this.parameters(model, 'lora_E')) {
      const scores = triplets.get(nE)!;
      const values = E.data();
      for (let i = 0; i < scores.length; i++) if (scores[i]! <= threshold) values[i] = 0;
      pattern[nE] = Array.from(scores, (s) => s > threshold);
    }
    return pattern;
  }

  /** PEFT's update_and_allocate of the allocator: averages before total_step - tfinal, then masks when scheduled or forced. */
  updateAndAllocate(model: Module, step: number, forceMask = false): Allocation {
    if (step < this.config.totalStep! - this.config.tfinal) this.updateIpt(model);
    const { budget, mask } = this.budgetSchedule(step);
    return { budget, rankPattern: mask || forceMask ? this.maskToBudget(model, budget) : null };
  }

  /** Zeroes the E entries a rank pattern drops (its keys with or without the adapter name). */
  maskUsingRankPattern(model: Module, rankPattern: AdaLoraRankPattern): void {
    const first = Object.keys(rankPattern)[0];
    const truncated = first !== undefined && !first.includes(this.adapterName);
    for (const [n, E] of this.parameters(model, 'lora_E')) {
      const key = truncated ? n.replaceAll(`.${this.adapterName}`, '') : n;
      const keep = rankPattern[key];
      if (keep === undefined) throw new AdapterError(`rank_pattern has no entry for ${key}`);
      const values = E.data();
      keep.forEach((k, i) => {
        if (!k) values[i] = 0;
      });
    }
  }
}
