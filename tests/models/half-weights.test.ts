// Layer weights stored in bfloat16 (castLayerWeights, fromPretrained's dtype): what is converted, the
// memory it saves, and a model that computes what the float32 model computes on the rounded weights —
// logits, generation, and LoRA on top.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, noGrad, type Tensor } from '../../src/engine/index.js';
import { generate } from '../../src/generate/index.js';
import { AutoModelForCausalLM, GPT2LMHeadModel, ModelConfigError, type PreTrainedModel } from '../../src/models/index.js';
import { castLayerWeights } from '../../src/nn/index.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
import { assertTensorMatches, modelFixtureDir } from '../helpers/model-fixtures.js';

const dir = modelFixtureDir('gpt2-lm');
const prompt = { inputIds: [[0, 0, 17, 40, 9], [33, 12, 80, 4, 61]], attentionMask: [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]] };

/** The float32 model with every layer weight rounded to bfloat16 and back. */
async function roundedModel(): Promise<PreTrainedModel> {
  const model = await GPT2LMHeadModel.fromPretrained(dir);
  castLayerWeights(model, 'bfloat16');
  castLayerWeights(model, 'float32');
  return model;
}

function logits(model: PreTrainedModel): Tensor {
  return noGrad(() => model.forward({ inputIds: fromArray(new Int32Array(prompt.inputIds.flat()), [2, 5]), attentionMask: fromArray(new Int32Array(prompt.attentionMask.flat()), [2, 5]) }).logits!);
}

test('castLayerWeights converts Linear, Conv1D and Embedding weights (tied ones once) and halves their bytes', async () => {
  const model = await GPT2LMHeadModel.fromPretrained(dir);
  const report = castLayerWeights(model, 'bfloat16');
  const state = model.stateDict();
  const half = [...state].filter(([, t]) => t.dtype === 'bfloat16').map(([k]) => k);
  assert.deepEqual(half.sort(), [...state.keys()].filter((k) => /(wte|wpe|c_attn|c_proj|c_fc|lm_head)\.weight$/.test(k)).sort());
  assert.equal(state.get('lm_head.weight'), state.get('transformer.wte.weight'), 'the head stays tied');
  assert.equal(report.tensors, half.length - 1);
  assert.equal(report.bytesAfter * 2, report.bytesBefore);
  assert.equal(state.get('transformer.ln_f.weight')!.dtype, 'float32');
  assert.throws(() => castLayerWeights(model, 'int32' as never), /'dtype'/);
});

test("fromPretrained({ dtype: 'bfloat16' }) computes the float32 model's outputs on the rounded weights", async () => {
  const model = await AutoModelForCausalLM.fromPretrained(dir, { dtype: 'bfloat16' });
  assert.equal(model.getInputEmbeddings().weight.dtype, 'bfloat16');
  const reference = await roundedModel();
  assertTensorMatches(logits(model), logits(reference), { atol: 1e-5, rtol: 1e-5 }, 'logits');
  const options = { maxNewTokens: 8, padTokenId: 0 };
  assert.deepEqual((await generate(model, prompt, options)).sequences, (await generate(reference, prompt, options)).sequences);
  await assert.rejects(() => AutoModelForCausalLM.fromPretrained(dir, { dtype: 'half' as never }), ModelConfigError);
});

test('LoRA on a bfloat16 base: the adapter output and its gradients are those of the rounded float32 base', async () => {
  const config = () => new LoraConfig({ r: 2, targetModules: ['c_attn', 'c_fc'], initLoraWeights: 'gaussian' });
  const [half, reference] = [await AutoModelForCausalLM.fromPretrained(dir, { dtype: 'bfloat16' }), await roundedModel()];
  const models = [half, reference].map((m) => new LoraModel(m, config()));
  const params = models.map((m) => new Map(m.namedParameters()));
  for (const [name, t] of params[1]!) {
    if (name.includes('lora_B')) t.data().fill(0.05);
    if (name.includes('lora_')) params[0]!.get(name)!.data().set(t.data());
  }
  const [a, b] = models.map((m, i) => {
    const ids = fromArray(new Int32Array(prompt.inputIds.flat()), [2, 5]);
    const out = m.forward({ inputIds: ids, labels: ids });
    out.loss!.backward();
    return { logits: out.logits!, grad: params[i]!.get('model.transformer.h.0.attn.c_attn.lora_A.default.weight')!.grad! };
  });
  assertTensorMatches(a!.logits, b!.logits, { atol: 1e-5, rtol: 1e-5 }, 'logits');
  assertTensorMatches(a!.grad, b!.grad, { atol: 1e-6, rtol: 1e-4, relativeToMax: true }, 'lora_A gradient');
  assert.throws(() => models[0]!.mergeAdapter(), /merging needs float32/);
});
