// Adaption prompts (LLaMA-Adapter) against the real PEFT on the tiny Llama, Mistral (grouped-query attention) and
// GPT-2 (fused c_attn, no c_proj on the prompt term) of tools/fixtures/peft_adaption_prompt.py: adapted modules, trainability, saved keys and config, outputs, loss and
// gradients with seeded prompts and non-zero gates, disabled outputs, greedy generation through the KV cache, a
// second adapter of another length and depth, PEFT's folders loaded and saved back; and the refusals.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { AutoModelForCausalLM, type ModelOutput } from '../../src/models/index.js';
import { ConfigError, UnsupportedError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { AdaptionPromptConfig } from '../../src/peft/tuners/adaption-prompt/config.js';
import { BaseAdaptedAttention } from '../../src/peft/tuners/adaption-prompt/layer.js';
import { TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { removeAdapterNameFromKey } from '../../src/peft/utils/save-and-load.js';
import { checkFixtureGeneration } from '../helpers/generation-models.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import { fixturePath } from '../helpers/paths.js';
import { assertSameConfigText } from '../helpers/peft.js';
import {
  buildFromSavedConfig,
  checkFixtureOutputs as check,
  checkPeftFolderRoundTrip,
  fixtureInputs as inputs,
  loadExpected,
  loadReference,
  promptIa3Case,
} from '../helpers/prompt-ia3.js';

const ROOT = fixturePath('peft', 'adaption-prompt');
const CASES = ['llama-adaption-prompt', 'mistral-adaption-prompt', 'gpt2-adaption-prompt'];

/** PEFT's name of one of our parameters: the adapter's entry in a container is PEFT's parameter itself. */
const peftName = (name: string, adapter: string): string => removeAdapterNameFromKey(name, adapter);

/** The fixture's prompts and gates (`<prefix>param.<PEFT name>`) into adapter `adapter`. */
function setPrompts(peft: PeftModel, expected: Map<string, Tensor>, adapter: string, prefix = ''): void {
  let set = 0;
  for (const [name, t] of peft.namedParameters()) {
    if (!name.endsWith(`.${adapter}`)) continue;
    const value = expected.get(`${prefix}param.${peftName(name, adapter)}`);
    if (value === undefined) continue;
    t.data().set(value.data());
    set++;
  }
  assert.equal(set, [...expected.keys()].filter((k) => k.startsWith(`${prefix}param.`)).length, 'every prompt and gate of the fixture');
}

async function prompted(name: string): Promise<{ c: ReturnType<typeof promptIa3Case>; expected: Map<string, Tensor>; peft: PeftModel }> {
  const c = promptIa3Case(name, ROOT);
  const expected = loadExpected(c);
  const peft = await buildFromSavedConfig(c);
  setPrompts(peft, expected, 'default');
  peft.eval();
  return { c, expected, peft };
}

test('the model types and default attention modules are PEFT’s', () => {
  const ref = loadReference<{ target_modules: unknown }>(ROOT);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_ADAPTION_PROMPT_TARGET_MODULES_MAPPING, ref.target_modules);
});

for (const name of CASES) {
  test(`${name}: adapted modules, trainable parameters, counts, saved keys and shapes, saved config as PEFT`, async () => {
    const c = promptIa3Case(name, ROOT);
    const peft = await buildFromSavedConfig(c);
    assert.deepEqual([...peft.namedModules()].filter(([, m]) => m instanceof BaseAdaptedAttention).map(([n]) => n), c.meta['modules']);
    assert.deepEqual(peft.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => peftName(n, 'default')), c.trainable);
    const { trainable, all } = peft.getNbTrainableParameters();
    assert.deepEqual([trainable, all], c.counts);
    assert.deepEqual(Object.fromEntries([...peft.getAdapterStateDict()].map(([k, t]) => [k, [...t.shape]])), c.saved);
    const gates = peft.namedParameters().filter(([n]) => n.includes('adaption_gate'));
    assert.equal(gates.length, (c.meta['modules'] as string[]).length, 'one gate per adapted attention');
    assert.ok(gates.every(([, t]) => t.data().every((v) => v === 0)), 'gates start at zero');
    const dir = mkdtempSync(join(tmpdir(), 'peftjs-adaption-prompt-'));
    try {
      peft.savePretrained(dir);
      assertSameConfigText(readFileSync(join(dir, 'adapter_config.json'), 'utf8'), readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: outputs, loss and gradients of the prompts and gates; disabled outputs`, async () => {
    const { expected, peft } = await prompted(name);
    const x = inputs(expected);
    const out = peft.forward(x);
    check(out, expected, '', name);
    out.loss!.backward();
    let compared = 0;
    for (const [n, t] of peft.namedParameters()) {
      if (!t.requiresGrad) continue;
      assertTensorMatches(t.grad!, expected.get(`grad.${peftName(n, 'default')}`)!, { atol: 1e-6, rtol: 1e-4, relativeToMax: true }, `grad ${n}`);
      compared++;
    }
    assert.equal(compared, [...expected.keys()].filter((k) => k.startsWith('grad.')).length);
    check(peft.disableAdapter(() => noGrad(() => peft.forward(x))), expected, 'disabled.', `${name} disabled`);
  });

  test(`${name}: greedy generation through the KV cache gives PEFT's tokens and step logits`, async () => {
    const { expected, peft } = await prompted(name);
    await checkFixtureGeneration(peft, peft.getBaseModel() as Parameters<typeof checkFixtureGeneration>[1], expected);
  });

  test(`${name}: a second adapter of another length and depth, active alone; the first again; saved under PEFT's keys`, async () => {
    const { c, expected, peft } = await prompted(name);
    const x = inputs(expected);
    const run = (): ModelOutput => noGrad(() => peft.forward(x));
    const otherModules = c.meta['other_modules'] as string[];
    const otherLen = expected.get(`other.param.${otherModules[0]}.adaption_prompt`)!.shape[1]!;
    peft.addAdapter('other', new AdaptionPromptConfig({ taskType: 'CAUSAL_LM', adapterLen: otherLen, adapterLayers: otherModules.length }));
    assert.ok(peft.namedParameters().filter(([n]) => n.endsWith('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
    check(run(), expected, '', 'default still active');
    setPrompts(peft, expected, 'other', 'other.');
    peft.setAdapter('other');
    check(run(), expected, 'other.', 'other');
    const saved = peft.getAdapterStateDict('other');
    assert.deepEqual([...saved.keys()].sort(), otherModules.flatMap((m) => [`${m}.adaption_gate`, `${m}.adaption_prompt`]).sort());
    peft.setAdapter('default');
    check(run(), expected, '', 'default again');
    peft.deleteAdapter('other');
    assert.ok(!peft.namedParameters().some(([n]) => n.endsWith('.other')));
  });

  test(`${name}: PEFT's saved adapter loads, gives PEFT's outputs and saves back byte for byte`, async () => {
    await checkPeftFolderRoundTrip(promptIa3Case(name, ROOT));
  });
}

test('llama-adaption-prompt: an adapter saved here loads into a second adapter slot with the same outputs', async () => {
  const { expected, peft } = await prompted('llama-adaption-prompt');
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-adaption-prompt-'));
  try {
    peft.savePretrained(dir);
    const again = await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(promptIa3Case('llama-adaption-prompt', ROOT).baseDir), dir);
    check(noGrad(() => again.forward(inputs(expected))), expected, '', 'reloaded');
    await again.loadAdapter(dir, 'copy');
    again.setAdapter('copy');
    check(noGrad(() => again.forward(inputs(expected))), expected, '', 'reloaded as a second adapter');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AdaptionPromptConfig: PEFT’s fields and defaults, JSON both ways, and the refusals', async () => {
  const config = new AdaptionPromptConfig({ taskType: 'CAUSAL_LM', adapterLen: 4, adapterLayers: 2 });
  const d = config.toDict();
  assert.deepEqual([d['peft_type'], d['target_modules'], d['adapter_len'], d['adapter_layers']], ['ADAPTION_PROMPT', null, 4, 2]);
  assert.ok(!('modules_to_save' in d), 'PEFT’s AdaptionPromptConfig has no modules_to_save');
  assert.deepEqual(AdaptionPromptConfig.fromJSON(JSON.parse(config.toJsonString({ inferenceMode: false })) as unknown).toDict(), d);
  assert.throws(() => new AdaptionPromptConfig({ adapterLen: 0 }), (e: unknown) => e instanceof ConfigError && /positive integer/.test(e.message));
  assert.throws(() => AdaptionPromptConfig.fromJSON({ peft_type: 'ADAPTION_PROMPT', adapter_layers: 1.5 }), (e: unknown) => e instanceof ConfigError && e.key === 'adapter_layers');
  assert.throws(() => AdaptionPromptConfig.fromJSON({ peft_type: 'ADAPTION_PROMPT', target_modules: ['self_attn'] }), (e: unknown) => e instanceof ConfigError && e.key === 'target_modules');

  const llama = (): Promise<Parameters<typeof getPeftModel>[0]> => AutoModelForCausalLM.fromPretrained(fixturePath('models', 'llama-lm'));
  await assert.rejects(async () => getPeftModel(await llama(), new AdaptionPromptConfig({ adapterLen: 2, adapterLayers: 3 })), (e: unknown) => e instanceof ConfigError && /adapter_layers.*more than the 2 'self_attn' modules/.test(`${e.key} ${e.message}`));
  await assert.rejects(async () => getPeftModel(await llama(), new AdaptionPromptConfig({ adapterLayers: 1 })), (e: unknown) => e instanceof ConfigError && e.key === 'adapter_len');
  await assert.rejects(async () => getPeftModel(await llama(), new AdaptionPromptConfig({ adapterLen: 2, adapterLayers: 1, targetModules: 'mlp' })), /adaption prompts wrap the self-attention/);
  const qwen2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'qwen2-lm'));
  assert.throws(() => getPeftModel(qwen2, new AdaptionPromptConfig({ adapterLen: 2, adapterLayers: 1 })), (e: unknown) => e instanceof UnsupportedError && /unsupported model type for adaption prompt: 'qwen2'/.test(e.message));
  const gpt2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  assert.throws(() => getPeftModel(gpt2, new AdaptionPromptConfig({ adapterLen: 2, adapterLayers: 1, targetModules: 'mlp' })), /'transformer.h.1.mlp' is a GPT2MLP; adaption prompts wrap the self-attention of GPT-2 models/);

  const peft = getPeftModel(await llama(), new AdaptionPromptConfig({ taskType: 'CAUSAL_LM', adapterLen: 2, adapterLayers: 1 }));
  assert.throws(() => peft.mergeAdapter(), (e: unknown) => e instanceof UnsupportedError && /cannot be merged/.test(e.message));
  assert.throws(() => peft.mergeAndUnload(), UnsupportedError);
});
