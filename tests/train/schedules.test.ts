import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AdamW, createScheduler, lrMultiplier, resolveTrainingArguments, TrainerError, warmupStepsFor, zeros, type LrSchedulerType,
} from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { fixturePath } from '../helpers/paths.js';

interface Fixture {
  base_lr: number;
  schedules: { type: LrSchedulerType; num_warmup_steps: number | null; num_training_steps: number; lrs: number[] }[];
  warmups: { warmup_steps: number; num_training_steps: number; expected: number }[];
}
const fixture = JSON.parse(readFileSync(fixturePath('train', 'schedules.json'), 'utf8')) as Fixture;

for (const s of fixture.schedules) {
  test(`${s.type} schedule (warmup ${s.num_warmup_steps}, ${s.num_training_steps} steps) matches transformers' get_scheduler`, () => {
    const opt = new AdamW([zeros([1]).setRequiresGrad()], { lr: fixture.base_lr });
    const sched = createScheduler(s.type, opt, { numWarmupSteps: s.num_warmup_steps ?? undefined, numTrainingSteps: s.num_training_steps });
    const got: number[] = [];
    for (let i = 0; i < s.lrs.length; i++) {
      got.push(opt.getLr());
      sched.advance();
    }
    assertClose(got, s.lrs, { atol: 1e-15, rtol: 1e-12 }, `${s.type} learning rates`);
    opt.dispose();
  });
}

test('warmup steps from a count or a ratio match TrainingArguments.get_warmup_steps', () => {
  for (const w of fixture.warmups) {
    const args = resolveTrainingArguments({ warmup_steps: w.warmup_steps });
    assert.equal(warmupStepsFor(args, w.num_training_steps), w.expected, `warmup_steps ${w.warmup_steps} of ${w.num_training_steps}`);
  }
  assert.equal(warmupStepsFor(resolveTrainingArguments({ warmupRatio: 0.1 }), 95), 10, 'warmupRatio rounds up');
});

test('scheduler state resumes at the same step and base rates', () => {
  const make = () => {
    const opt = new AdamW([zeros([1]).setRequiresGrad()], { lr: 0.01 });
    return { opt, sched: createScheduler('cosine', opt, { numWarmupSteps: 2, numTrainingSteps: 10 }) };
  };
  const a = make();
  for (let i = 0; i < 4; i++) a.sched.advance();
  const state = a.sched.stateDict();
  assert.equal(state.last_epoch, 4);
  assert.equal(state._step_count, 5);
  const b = make();
  b.sched.loadStateDict(JSON.parse(JSON.stringify(state)));
  assert.equal(b.opt.getLr(), a.opt.getLr());
  a.sched.advance();
  b.sched.advance();
  assert.equal(b.opt.getLr(), a.opt.getLr());
  assert.throws(() => b.sched.loadStateDict({ ...state, last_epoch: -1 }), TrainerError);
  assert.throws(() => b.sched.loadStateDict({ ...state, base_lrs: [0.1, 0.2] }), /base_lrs must be 1/);
});

test('schedules that need warmup or total steps say which option is missing', () => {
  assert.throws(() => lrMultiplier('linear', { numWarmupSteps: 0 }), /schedule 'linear': numTrainingSteps must be a non-negative integer/);
  assert.throws(() => lrMultiplier('constant_with_warmup'), /numWarmupSteps/);
  assert.throws(() => lrMultiplier('step' as LrSchedulerType), /unknown schedule 'step'/);
  assert.equal(lrMultiplier('constant')(123), 1);
});
