// Loss-curve parity with transformers' Trainer + PEFT: the same tiny Llama, the same initial LoRA
// adapter (saved by PEFT), the same 20 batches, AdamW with the decay groups, a linear schedule and
// clipping at 1.0 (tools/fixtures/train_curve.py). Every step's loss and gradient norm must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AutoModelForCausalLM, clipGradNorm, createOptimizer, createScheduler, fromArray, PeftModel, scope,
} from '../../src/index.js';
import { fixturePath } from '../helpers/paths.js';

interface Curve {
  training: { learning_rate: number; weight_decay: number; max_grad_norm: number; max_steps: number };
  steps: { step: number; loss: number; grad_norm: number; learning_rate: number }[];
}

test('20 LoRA steps reproduce transformers + PEFT losses and gradient norms within 1e-4 relative', async () => {
  const dir = fixturePath('train', 'lora_curve');
  const curve = JSON.parse(readFileSync(`${dir}/losses.json`, 'utf8')) as Curve;
  const batches = JSON.parse(readFileSync(`${dir}/batches.json`, 'utf8')) as Record<'input_ids' | 'attention_mask' | 'labels', number[][][]>;
  const base = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'llama-lm'));
  const peft = await PeftModel.fromPretrained(base, `${dir}/initial_adapter`, { isTrainable: true });
  peft.train();
  const t = curve.training;
  const optimizer = createOptimizer(peft, { learningRate: t.learning_rate, weightDecay: t.weight_decay, adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8 });
  const scheduler = createScheduler('linear', optimizer, { numWarmupSteps: 0, numTrainingSteps: t.max_steps });
  const params = peft.parameters().filter((p) => p.requiresGrad);
  curve.steps.forEach((expected, i) => {
    const tensor = (key: keyof typeof batches) => fromArray(batches[key][i]!, undefined, 'int32');
    const loss = scope(() => {
      const out = peft.forward({ inputIds: tensor('input_ids'), attentionMask: tensor('attention_mask'), labels: tensor('labels') });
      out.loss!.backward();
      return out.loss!.item();
    });
    const gradNorm = clipGradNorm(params, t.max_grad_norm);
    assert.ok(Math.abs(optimizer.getLr() - expected.learning_rate) <= 1e-12, `step ${expected.step}: lr ${optimizer.getLr()} vs ${expected.learning_rate}`);
    optimizer.step();
    scheduler.advance();
    optimizer.zeroGrad();
    assert.ok(Math.abs(loss - expected.loss) <= 1e-4 * Math.abs(expected.loss), `step ${expected.step}: loss ${loss} vs ${expected.loss}`);
    assert.ok(Math.abs(gradNorm - expected.grad_norm) <= 1e-4 * expected.grad_norm, `step ${expected.step}: grad norm ${gradNorm} vs ${expected.grad_norm}`);
  });
});
