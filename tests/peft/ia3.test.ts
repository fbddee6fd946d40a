// IA3Model against the real PEFT on the tiny GPT-2 and BERT (tools/fixtures/peft_prompt_ia3.py): default targets
// and feedforward modules, the resolved config, trainability, outputs, gradients, disabling, merging, unmerging,
// several adapters and add_weighted_adapter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad, type Tensor } from '../../src/engine/index.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, type ModelInputs, type ModelOutput, type PreTrainedModel } from '../../src/models/index.js';
import { Embedding } from '../../src/nn/embedding.js';
import { Linear } from '../../src/nn/linear.js';
import { ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { IA3Config } from '../../src/peft/tuners/ia3/config.js';
import { IA3Layer } from '../../src/peft/tuners/ia3/layer.js';
import { IA3Model } from '../../src/peft/tuners/ia3/model.js';
import { TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING, TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import { assertNonFiniteMerges, assertSameAdapterConfig, captureWarnings } from '../helpers/peft.js';
import { checkFixtureOutputs as check, fixtureInputs as inputs, loadExpected, loadReference, promptIa3Case, assertSavesBack, assertSetUpAsPeft, setFixtureParams, type PromptIa3Case } from '../helpers/prompt-ia3.js';

const PREFIX = 'base_model.';

async function build(c: PromptIa3Case, expected: Map<string, Tensor>): Promise<IA3Model<PreTrainedModel>> {
  const Auto = { SEQ_CLS: AutoModelForSequenceClassification, SEQ_2_SEQ_LM: AutoModelForSeq2SeqLM }[c.taskType] ?? AutoModelForCausalLM;
  const model = await Auto.fromPretrained(c.baseDir);
  model.nameOrPath = `tests/fixtures/models/${c.meta['base'] as string}`;
  const config = new IA3Config(IA3Config.fromJSON(JSON.parse(readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'))).toDict() as never);
  config.inferenceMode = false;
  // What PeftModelForSequenceClassification adds before injecting.
  if (c.taskType === 'SEQ_CLS') config.modulesToSave = ['classifier', 'score'];
  const fresh = c.name === 'gpt2-ia3' ? new IA3Config({ taskType: 'CAUSAL_LM' }) : config;
  fresh.baseModelNameOrPath = model.nameOrPath;
  const tuner = captureWarnings(() => new IA3Model(model, fresh)).result;
  setFixtureParams(tuner, expected, PREFIX);
  return tuner.eval();
}

function run(tuner: IA3Model<PreTrainedModel>, x: ModelInputs): ModelOutput {
  return noGrad(() => tuner.forward(x));
}

for (const name of ['gpt2-ia3', 'bert-ia3', 'gpt2-ia3-regex', 'llama-ia3', 't5-ia3']) {
  test(`${name}: targets, feedforward modules, saved config, trainability and counts as PEFT`, async () => {
    const c = promptIa3Case(name);
    const expected = loadExpected(c);
    const tuner = await build(c, expected);
    const layers = [...tuner.namedModules()].filter(([, m]) => m instanceof IA3Layer) as [string, IA3Layer][];
    const strip = (n: string): string => n.slice('base_model.model.'.length);
    assert.deepEqual(layers.map(([n]) => n.slice('model.'.length)), (c.meta['modules'] as string[]).map(strip));
    assert.deepEqual(layers.filter(([, l]) => l.isFeedforward).map(([n]) => n.slice('model.'.length)), (c.meta['feedforward'] as string[]).map(strip));
    const trainable = tuner.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => PREFIX + n);
    assert.deepEqual(trainable, c.trainable);
    const { trainable: nt, all } = tuner.getNbTrainableParameters();
    assert.deepEqual([nt, all], c.counts);
    const config = tuner.peftConfig.get('default')!;
    assertSameAdapterConfig(config, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
  });

  test(`${name}: outputs and gradients; disabled, merged and unmerged outputs`, async () => {
    const c = promptIa3Case(name);
    const expected = loadExpected(c);
    const tuner = await build(c, expected);
    const x = inputs(expected);
    const out = tuner.forward(x);
    check(out, expected, '', name);
    out.loss!.backward();
    for (const [n, t] of tuner.namedParameters()) {
      const g = expected.get(`grad.${PREFIX}${n}`);
      if (!t.requiresGrad) continue;
      assert.ok(g !== undefined && t.grad !== null, `${n}: gradient`);
      assertTensorMatches(t.grad, g, { atol: 1e-6, rtol: 1e-4, relativeToMax: true }, `grad ${n}`);
    }
    check(tuner.withDisabledAdapters(() => run(tuner, x)), expected, 'disabled.', `${name} disabled`);
    tuner.mergeAdapter();
    check(run(tuner, x), expected, 'merged.', `${name} merged`);
    const { warnings } = captureWarnings(() => tuner.unmergeAdapter());
    assert.ok(warnings.some((w) => /inaccurate/.test(w)));
    check(run(tuner, x), expected, 'unmerged.', `${name} unmerged`);
    for (const [n, t] of tuner.namedParameters()) {
      const w = expected.get(`unmerged.${PREFIX}${n}`);
      if (w !== undefined) assertTensorMatches(t, w, { atol: 1e-6, rtol: 1e-6 }, `unmerged ${n}`);
    }
  });
}

test('gpt2-ia3: two active adapters multiply, add_weighted_adapter sums the vectors, merge_and_unload', async () => {
  const c = promptIa3Case('gpt2-ia3');
  const expected = loadExpected(c);
  const tuner = await build(c, expected);
  const x = inputs(expected);
  tuner.addAdapter('other', new IA3Config({ taskType: 'CAUSAL_LM', targetModules: ['c_attn', 'c_fc'], feedforwardModules: ['c_fc'] }));
  setFixtureParams(tuner, expected, PREFIX);
  assert.ok(tuner.namedParameters().filter(([n]) => n.endsWith('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  tuner.setAdapter(['default', 'other']);
  check(run(tuner, x), expected, 'both.', 'both');
  tuner.addWeightedAdapter(['default', 'other'], [0.6, -0.4], 'mix');
  const mix = tuner.peftConfig.get('mix')!.toDict();
  const sortSets = (d: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]));
  assert.deepEqual(sortSets(mix), sortSets(c.meta['mix_config'] as Record<string, unknown>));
  for (const [n, t] of tuner.namedParameters()) {
    const v = expected.get(`mix.${PREFIX}${n}`);
    if (n.endsWith('.mix')) assertTensorMatches(t, v!, { atol: 1e-6, rtol: 1e-6 }, n);
  }
  tuner.setAdapter('mix');
  check(run(tuner, x), expected, 'mix.', 'mix');
  tuner.setAdapter('default');
  const merged = captureWarnings(() => tuner.mergeAndUnload()).result;
  assert.ok(![...merged.namedModules()].some(([, m]) => m instanceof IA3Layer));
  check(noGrad(() => merged.forward(x)), expected, 'merge_and_unload.', 'merge_and_unload');
});

test('the default (IA)³ targets and feedforward modules per model type are PEFT’s', () => {
  const ref = loadReference<{ ia3_target_modules_mapping: unknown; ia3_feedforward_modules_mapping: unknown }>();
  assert.deepEqual(TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING, ref.ia3_target_modules_mapping);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING, ref.ia3_feedforward_modules_mapping);
});

test('IA3Model errors: unknown model type without targets or feedforward modules, unsupported layers', async () => {
  const model = await AutoModelForCausalLM.fromPretrained(promptIa3Case('gpt2-ia3').baseDir);
  assert.throws(() => new IA3Model(model, new IA3Config(), 'default', { modelType: 'custom' }), (e: unknown) => e instanceof ConfigError && e.key === 'target_modules');
  assert.throws(() => new IA3Model(model, new IA3Config({ targetModules: ['c_attn'] }), 'default', { modelType: 'custom' }), (e: unknown) => e instanceof ConfigError && e.key === 'feedforward_modules');
  assert.throws(() => new IA3Model(model, new IA3Config({ targetModules: ['wte'], feedforwardModules: [] })), TargetModulesError);
  assert.ok(model.getSubmodule('transformer.wte') instanceof Embedding, 'nothing was replaced');
});

for (const name of ['gpt2-ia3', 'bert-ia3', 'llama-ia3', 't5-ia3']) {
  test(`${name}: through PeftModel — PEFT's saved adapter loads, gives PEFT's outputs and saves back byte for byte`, async () => {
    const c = promptIa3Case(name);
    const expected = loadExpected(c);
    const Auto = { SEQ_CLS: AutoModelForSequenceClassification, SEQ_2_SEQ_LM: AutoModelForSeq2SeqLM }[c.taskType] ?? AutoModelForCausalLM;
    const fresh = getPeftModel(await Auto.fromPretrained(c.baseDir), new IA3Config({ taskType: c.taskType as 'CAUSAL_LM' }));
    assertSetUpAsPeft(fresh, c);

    const peft = await PeftModel.fromPretrained(await Auto.fromPretrained(c.baseDir), c.dir);
    check(noGrad(() => peft.forward(inputs(expected))), expected, '', `${name} loaded`);
    assertSavesBack(peft, c);
  });
}

test('IA3 merges: safeMerge refuses a vector that makes the weights non-finite and leaves them alone; a plain merge warns', () => {
  const layer = (): IA3Layer => {
    const l = new IA3Layer(new Linear(4, 3), 'default', new IA3Config({ initIa3Weights: true }), false, { key: 'blocks.0.proj' });
    l.ia3L.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  };
  assertNonFiniteMerges(layer);
  const finite = new IA3Layer(new Linear(4, 3), 'default', new IA3Config({ initIa3Weights: true }), false, { key: 'blocks.0.proj' });
  assert.deepEqual(captureWarnings(() => finite.merge({ safeMerge: true })).warnings, []);
  assert.equal(finite.merged, true);
});
