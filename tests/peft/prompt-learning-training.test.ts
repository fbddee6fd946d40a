// Training a prompt-tuning adapter end to end: AdamW on the virtual tokens alone lowers the loss on held-out text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, manualSeed, noGrad, scope, type Tensor } from '../../src/engine/index.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PromptTuningConfig } from '../../src/peft/tuners/prompt-tuning/config.js';
import { AdamW } from '../../src/train/optimizer.js';
import { fixturePath } from '../helpers/paths.js';

/** Rows of tokens drawn from a small part of the vocabulary: what the prompt has to steer the model towards. */
function batch(seed: number, rows: number, length: number): { inputIds: Tensor; labels: Tensor } {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  const ids = Int32Array.from({ length: rows * length }, () => 40 + (next() % 6));
  return { inputIds: fromArray(ids, [rows, length], 'int32'), labels: fromArray(ids, [rows, length], 'int32') };
}

test('prompt tuning with AdamW lowers the held-out loss of a frozen tiny GPT-2', async () => {
  manualSeed(0);
  const model = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  // The fixture's (tied) embeddings are N(0, 0.02²): logits that barely move. Scaled up, the model can be steered.
  const wte = model.getInputEmbeddings().weight.data();
  for (let i = 0; i < wte.length; i++) wte[i] = wte[i]! * 10;
  const peft = getPeftModel(model, new PromptTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 4 }));
  const params = peft.parameters().filter((t) => t.requiresGrad);
  assert.deepEqual(peft.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => n), ['prompt_encoder.default.embedding.weight']);
  const frozen = model.getInputEmbeddings().weight.toArray();
  const heldOut = batch(99, 4, 10);
  const heldOutLoss = (): number => noGrad(() => peft.eval().forward(heldOut).loss!.item());
  const before = heldOutLoss();
  const optimizer = new AdamW(params, { lr: 0.3, weightDecay: 0 });
  peft.train();
  for (let step = 0; step < 12; step++) {
    scope(() => peft.forward(batch(step + 1, 8, 10)).loss!.backward());
    optimizer.step();
    optimizer.zeroGrad();
  }
  const after = heldOutLoss();
  assert.ok(after < before - 0.2, `held-out loss ${before} → ${after}`);
  assert.deepEqual(model.getInputEmbeddings().weight.toArray(), frozen, 'the model stays frozen');
});
