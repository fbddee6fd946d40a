import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AdamW, DisposedTensorError, DTypeError, EngineError, ShapeError, fromArray, matmul, randn, Tensor, zeros,
  type ParamGroup,
} from '../../src/index.js';
import { assertClose, assertTensorClose } from '../helpers/assert-close.js';
import { toTensor, type GoldenTensor } from '../helpers/golden.js';
import { fixturePath } from '../helpers/paths.js';

interface Step {
  set_lr: { group: number | null; lr: number }[];
  grads: (GoldenTensor | null)[];
  params: GoldenTensor[];
}
interface Scenario {
  name: string;
  defaults: boolean;
  initial: GoldenTensor[];
  groups: { params: number[]; lr: number; betas: [number, number]; eps: number; weight_decay: number }[] | null;
  steps: Step[];
  final_state: ({ step: number; exp_avg: GoldenTensor; exp_avg_sq: GoldenTensor } | null)[];
}
const fixture = JSON.parse(readFileSync(fixturePath('train', 'adamw.json'), 'utf8')) as {
  torch_defaults: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  scenarios: Scenario[];
};
const tol = { atol: 1e-4, rtol: 1e-4 };

function leaves(s: Scenario): Tensor[] {
  return s.initial.map((g) => toTensor(g).setRequiresGrad());
}

function groupsOf(s: Scenario, params: Tensor[], withHyper = true): ParamGroup[] {
  return s.groups!.map((g) => ({
    params: g.params.map((i) => params[i]!),
    ...(withHyper ? { lr: g.lr, betas: g.betas, eps: g.eps, weightDecay: g.weight_decay } : {}),
  }));
}

/** Parameter indices in the optimizer's order (group by group), as stateDict numbers them. */
function optimizerOrder(s: Scenario): number[] {
  return s.groups === null ? s.initial.map((_, i) => i) : s.groups.flatMap((g) => g.params);
}

function runSteps(s: Scenario, opt: AdamW, params: Tensor[], from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const step = s.steps[k]!;
    for (const { group, lr } of step.set_lr) {
      if (group === null) opt.setLr(lr);
      else opt.setLr(group, lr);
    }
    opt.zeroGrad();
    step.grads.forEach((g, i) => (params[i]!.grad = g === null ? null : toTensor(g)));
    opt.step();
    params.forEach((p, i) => assertTensorClose(p, step.params[i]!, tol, `${s.name}: step ${k + 1} param ${i}`));
  }
}

for (const s of fixture.scenarios) {
  test(`AdamW matches torch.optim.AdamW: ${s.name}`, () => {
    const params = leaves(s);
    const opt = s.defaults ? new AdamW(params) : new AdamW(groupsOf(s, params));
    runSteps(s, opt, params, 0, s.steps.length);
    const dict = opt.stateDict();
    optimizerOrder(s).forEach((paramIndex, index) => {
      const expected = s.final_state[paramIndex];
      const got = dict.state[index];
      if (expected === null) {
        assert.equal(got, undefined, `${s.name}: param ${paramIndex} never had a gradient and must have no state`);
        return;
      }
      assert.ok(got, `${s.name}: param ${paramIndex} has no state`);
      assert.equal(got.step, expected!.step, `${s.name}: step count of param ${paramIndex}`);
      assertTensorClose(got.exp_avg, expected!.exp_avg, tol, `${s.name}: exp_avg of param ${paramIndex}`);
      assertTensorClose(got.exp_avg_sq, expected!.exp_avg_sq, tol, `${s.name}: exp_avg_sq of param ${paramIndex}`);
    });
    opt.dispose();
  });
}

test('AdamW defaults are torch.optim.AdamW defaults', () => {
  const d = fixture.torch_defaults;
  const g = new AdamW([zeros([2])]).paramGroups[0]!;
  assert.deepEqual({ lr: g.lr, betas: [...g.betas], eps: g.eps, weight_decay: g.weightDecay }, d);
});

test('AdamW stateDict/loadStateDict resumes the same trajectory', () => {
  const s = fixture.scenarios.find((x) => !x.defaults)!;
  const params = leaves(s);
  const first = new AdamW(groupsOf(s, params));
  runSteps(s, first, params, 0, 2);
  const dict = first.stateDict();
  first.dispose();
  const resumedParams = params.map((p) => fromArray(p.toArray(), p.shape).setRequiresGrad());
  const resumed = new AdamW(groupsOf(s, resumedParams, false));
  resumed.loadStateDict(dict);
  for (const t of Object.values(dict.state)) {
    t.exp_avg.dispose();
    t.exp_avg_sq.dispose();
  }
  runSteps(s, resumed, resumedParams, 2, s.steps.length);
  resumed.dispose();
});

/** AdamW from its definition, in float64. */
function referenceAdamW(p: Float64Array, steps: Float64Array[], lr: number, [b1, b2]: [number, number], eps: number, wd: number): Float64Array {
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  steps.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      p[i] -= (lr / (1 - b1 ** t)) * (m[i]! / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps));
    }
  });
  return p;
}

test('AdamW updates hundreds of tensors of uneven sizes in one step (multithreaded split)', () => {
  const sizes = Array.from({ length: 300 }, (_, i) => 1 + ((i * 7919) % 1500));
  const params = sizes.map((n) => randn([n]).setRequiresGrad());
  const initial = params.map((p) => Float64Array.from(p.toArray()));
  const grads = [0, 1, 2].map(() => sizes.map((n) => randn([n])));
  const hyper = { lr: 0.02, betas: [0.85, 0.995] as [number, number], eps: 1e-7, weightDecay: 0.05 };
  const opt = new AdamW(params, hyper);
  for (const stepGrads of grads) {
    params.forEach((p, i) => (p.grad = stepGrads[i]!));
    opt.step();
  }
  params.forEach((p, i) => {
    const steps = grads.map((g) => Float64Array.from(g[i]!.toArray()));
    const expected = referenceAdamW(initial[i]!, steps, hyper.lr, hyper.betas, hyper.eps, hyper.weightDecay);
    assertClose(p.toArray(), expected, tol, `param ${i}`);
  });
  opt.dispose();
});

test('AdamW.step without gradients changes nothing; zeroGrad drops gradients', () => {
  const p = fromArray([1, 2, 3]).setRequiresGrad();
  const opt = new AdamW([p], { lr: 0.1 });
  opt.step();
  assert.deepEqual([...p.toArray()], [1, 2, 3]);
  p.grad = fromArray([1, 1, 1]);
  opt.zeroGrad();
  assert.equal(p.grad, null);
  assert.deepEqual(opt.stateDict().state, {});
});

test('AdamW rejects invalid hyperparameters, params and gradients with typed errors', () => {
  const p = zeros([2, 2]).setRequiresGrad();
  const throwsNaming = (fn: () => unknown, type: typeof EngineError, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof type && pattern.test((e as Error).message));
  throwsNaming(() => new AdamW([p], { lr: -1 }), EngineError, /AdamW: argument 'lr'/);
  throwsNaming(() => new AdamW([p], { betas: [0.9, 1] }), EngineError, /AdamW: argument 'betas'/);
  throwsNaming(() => new AdamW([p], { eps: Number.NaN }), EngineError, /AdamW: argument 'eps'/);
  throwsNaming(() => new AdamW([{ params: [p], weightDecay: -0.1 }]), EngineError, /AdamW: argument 'weightDecay'/);
  throwsNaming(() => new AdamW([]), EngineError, /AdamW: argument 'params'/);
  throwsNaming(() => new AdamW([p, p]), EngineError, /group 0 param 1' appears more than once/);
  throwsNaming(() => new AdamW([zeros([2], 'int32')]), DTypeError, /group 0 param 0' must be float32/);
  const nonLeaf = matmul(p, p);
  throwsNaming(() => new AdamW([nonLeaf]), EngineError, /not a leaf/);

  const opt = new AdamW([{ params: [zeros([1])] }, { params: [p] }]);
  throwsNaming(() => opt.setLr(2, 0.1), EngineError, /AdamW.setLr: argument 'groupIndex'/);
  throwsNaming(() => opt.setLr(0, -0.1), EngineError, /AdamW.setLr: argument 'lr'/);
  p.grad = zeros([4]);
  throwsNaming(() => opt.step(), ShapeError, /AdamW.step: argument 'grad of group 1 param 0' has shape \[4\], expected \[2, 2\]/);
  p.grad = zeros([2, 2]);
  opt.step();
  const dict = opt.stateDict();
  throwsNaming(() => opt.loadStateDict({ ...dict, param_groups: dict.param_groups.slice(1) }), EngineError, /AdamW.loadStateDict: argument 'param_groups' must list 2 groups/);
  throwsNaming(() => opt.loadStateDict({ ...dict, state: { 1: { ...dict.state[1]!, exp_avg: zeros([3]) } } }), ShapeError, /argument 'state\[1\].exp_avg' has shape \[3\]/);
  throwsNaming(() => opt.loadStateDict({ ...dict, state: { 7: dict.state[1]! } }), EngineError, /argument 'state\[7\]'/);
  p.dispose();
  throwsNaming(() => opt.step(), DisposedTensorError, /AdamW.step: argument 'group 1 param 0'/);
  opt.dispose();
});
