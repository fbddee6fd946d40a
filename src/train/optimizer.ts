// AdamW with torch.optim.AdamW's semantics (decoupled weight decay, per-parameter step counts and
// bias corrections, eps added after the square root), updating every parameter of every group in
// one native call. Parameters without a gradient are skipped, as in torch.
import { native, type NativeAddon } from '../native/binding.js';
import { DTypeError, EngineError, ShapeError } from '../engine/errors.js';
import { checkFloat } from '../engine/ops/check.js';
import { zeros } from '../engine/ops/creation.js';
import { keep } from '../engine/scope.js';
import { formatShape, sameShape } from '../engine/shape.js';
import { Tensor } from '../engine/tensor.js';

interface AdamWKernel {
  /** buffers: [param, grad, expAvg, expAvgSq] per tensor; coefficients: 7 per tensor (see adamw.cc). */
  adamwStep(buffers: ArrayBuffer[], sizes: Float64Array, coefficients: Float64Array): void;
}
const kernels = native as NativeAddon & AdamWKernel;

export interface AdamWOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface ParamGroup extends AdamWOptions {
  params: readonly Tensor[];
}

export interface AdamWGroup {
  readonly params: readonly Tensor[];
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

/** Mirrors torch.optim's state_dict layout: state keyed by parameter index across the groups. */
export interface AdamWStateDict {
  state: Record<number, { step: number; exp_avg: Tensor; exp_avg_sq: Tensor }>;
  param_groups: { lr: number; betas: [number, number]; eps: number; weight_decay: number; params: number[] }[];
}

interface ParamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

interface Group {
  params: Tensor[];
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

const DEFAULTS = { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 1e-2 };

function checkNonNegative(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new EngineError(op, arg, `must be a non-negative finite number, got ${String(v)}`);
  }
  return v;
}

function checkBetas(op: string, betas: unknown): [number, number] {
  if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
    throw new EngineError(op, 'betas', `must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
  }
  return [betas[0], betas[1]];
}

function copyOf(t: Tensor): Tensor {
  const out = Tensor.empty(t.shape);
  native.copyBytes(t.buffer, 0, out.buffer, 0, t.size * 4);
  return out;
}

function isParamGroups(params: readonly Tensor[] | readonly ParamGroup[]): params is readonly ParamGroup[] {
  return params.length > 0 && (params[0] as { isTensor?: boolean }).isTensor !== true;
}

export class AdamW {
  private readonly groups: Group[];
  private readonly state = new Map<Tensor, ParamState>();

  constructor(params: readonly Tensor[] | readonly ParamGroup[], options: AdamWOptions = {}) {
    const op = 'AdamW';
    const defaults = AdamW.resolve(op, options, DEFAULTS);
    if (!Array.isArray(params as unknown) || params.length === 0) throw new EngineError(op, 'params', 'must be a non-empty array of tensors or param groups');
    const groupList = isParamGroups(params) ? params : [{ params }];
    const seen = new Set<Tensor>();
    this.groups = groupList.map((g, gi) => {
      if (!Array.isArray(g.params as unknown)) throw new EngineError(op, `params[${gi}].params`, 'must be an array of tensors');
      g.params.forEach((p, i) => {
        const arg = `group ${gi} param ${i}`;
        checkFloat(op, arg, p);
        if (p.gradFn !== null) throw new EngineError(op, arg, 'is not a leaf tensor; only leaves can be optimized');
        if (seen.has(p)) throw new EngineError(op, arg, 'appears more than once across the param groups');
        seen.add(p);
      });
      return { params: [...g.params], ...AdamW.resolve(op, g, defaults) };
    });
  }

  private static resolve(op: string, o: AdamWOptions, base: Omit<Group, 'params'>): Omit<Group, 'params'> {
    return {
      lr: checkNonNegative(op, 'lr', o.lr ?? base.lr),
      betas: checkBetas(op, o.betas ?? base.betas),
      eps: checkNonNegative(op, 'eps', o.eps ?? base.eps),
      weightDecay: checkNonNegative(op, 'weightDecay', o.weightDecay ?? base.weightDecay),
    };
  }

  get paramGroups(): readonly AdamWGroup[] {
    return this.groups;
  }

  getLr(groupIndex = 0): number {
    return this.group('AdamW.getLr', groupIndex).lr;
  }

  /** Sets the learning rate of every group, or of one group. */
  setLr(lr: number): void;
  setLr(groupIndex: number, lr: number): void;
  setLr(first: number, second?: number): void {
    const op = 'AdamW.setLr';
    if (second === undefined) {
      const lr = checkNonNegative(op, 'lr', first);
      for (const g of this.groups) g.lr = lr;
    } else {
      this.group(op, first).lr = checkNonNegative(op, 'lr', second);
    }
  }

  private group(op: string, index: number): Group {
    const g = Number.isInteger(index) ? this.groups[index] : undefined;
    if (g === undefined) throw new EngineError(op, 'groupIndex', `must be an integer in [0, ${this.groups.length - 1}], got ${index}`);
    return g;
  }

  /** One AdamW update of every parameter that has a gradient. */
  step(): void {
    const op = 'AdamW.step';
    const active: { p: Tensor; grad: Tensor; g: Group }[] = [];
    this.groups.forEach((g, gi) =>
      g.params.forEach((p, i) => {
        const arg = `group ${gi} param ${i}`;
        p.assertAlive(op, arg);
        const grad = p.grad;
        if (grad === null) return;
        grad.assertAlive(op, `grad of ${arg}`);
        if (grad.dtype !== 'float32') throw new DTypeError(op, `grad of ${arg}`, `must be float32, got ${grad.dtype}`);
        if (!sameShape(grad.shape, p.shape)) {
          throw new ShapeError(op, `grad of ${arg}`, `has shape ${formatShape(grad.shape)}, expected ${formatShape(p.shape)}`);
        }
        active.push({ p, grad, g });
      }),
    );
    if (active.length === 0) return;
    const buffers: ArrayBuffer[] = [];
    const sizes = new Float64Array(active.length);
    const coefficients = new Float64Array(active.length * 7);
    active.forEach(({ p, grad, g }, i) => {
      const s = this.stateOf(p);
      s.step += 1;
      const [beta1, beta2] = g.betas;
      buffers.push(p.buffer, grad.buffer, s.expAvg.buffer, s.expAvgSq.buffer);
      sizes[i] = p.size;
      coefficients.set(
        [1 - g.lr * g.weightDecay, 1 - beta1, beta2, 1 - beta2, g.eps, g.lr / (1 - beta1 ** s.step), Math.sqrt(1 - beta2 ** s.step)],
        i * 7,
      );
    });
    kernels.adamwStep(buffers, sizes, coefficients);
  }

  private stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = { step: 0, expAvg: keep(zeros(p.shape)), expAvgSq: keep(zeros(p.shape)) };
      this.state.set(p, s);
    }
    return s;
  }

  /** Drops every parameter's gradient (torch's zero_grad with set_to_none). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  /** A copy of the optimizer state (fresh tensors owned by the caller), for checkpoints. */
  stateDict(): AdamWStateDict {
    const state: AdamWStateDict['state'] = {};
    let index = 0;
    const paramGroups = this.groups.map((g) => {
      const params: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s !== undefined) state[index] = { step: s.step, exp_avg: copyOf(s.expAvg), exp_avg_sq: copyOf(s.expAvgSq) };
        params.push(index++);
      }
      return { lr: g.lr, betas: [...g.betas] as [number, number], eps: g.eps, weight_decay: g.weightDecay, params };
    });
    return { state, param_groups: paramGroups };
  }

  /** Restores hyperparameters and state saved by stateDict; the given tensors are copied. */
  loadStateDict(dict: AdamWStateDict): void {
    const op = 'AdamW.loadStateDict';
    const groups = dict?.param_groups;
    if (!Array.isArray(groups) || groups.length !== this.groups.length) {
      throw new EngineError(op, 'param_groups', `must list ${this.groups.length} groups, got ${Array.isArray(groups) ? groups.length : typeof groups}`);
    }
    const params = this.groups.flatMap((g) => g.params);
    const hyper = groups.map((saved, gi) => {
      const own = this.groups[gi]!;
      if (!Array.isArray(saved.params) || saved.params.length !== own.params.length) {
        throw new EngineError(op, `param_groups[${gi}].params`, `must list ${own.params.length} params, got ${saved.params?.length}`);
      }
      return AdamW.resolve(op, { lr: saved.lr, betas: saved.betas, eps: saved.eps, weightDecay: saved.weight_decay }, own);
    });
    const entries = Object.entries(dict.state ?? {}).map(([key, s]) => {
      const index = Number(key);
      const p = params[index];
      if (!Number.isInteger(index) || p === undefined) throw new EngineError(op, `state[${key}]`, `must be keyed by a param index in [0, ${params.length - 1}]`);
      if (!Number.isInteger(s.step) || s.step < 0) throw new EngineError(op, `state[${key}].step`, `must be a non-negative integer, got ${s.step}`);
      for (const name of ['exp_avg', 'exp_avg_sq'] as const) {
        checkFloat(op, `state[${key}].${name}`, s[name]);
        if (!sameShape(s[name].shape, p.shape)) {
          throw new ShapeError(op, `state[${key}].${name}`, `has shape ${formatShape(s[name].shape)}, expected ${formatShape(p.shape)}`);
        }
      }
      return { p, step: s.step, expAvg: keep(copyOf(s.exp_avg)), expAvgSq: keep(copyOf(s.exp_avg_sq)) };
    });
    this.disposeState();
    for (const { p, ...s } of entries) this.state.set(p, s);
    hyper.forEach((h, gi) => Object.assign(this.groups[gi]!, h));
  }

  /** Frees the moment buffers; a later step starts from fresh state. */
  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const s of this.state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.state.clear();
  }
}
