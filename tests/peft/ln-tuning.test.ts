// LN tuning against the real PEFT on the tiny GPT-2 (LayerNorm), Llama (RMSNorm), BERT SEQ_CLS (a regex target with
// an exclusion) and T5 (RMSNorm) of tools/fixtures/peft_ln_tuning.py: targets, trainability, saved keys and config,
// outputs, gradients of the copies, disabling, merging, a second adapter, PEFT's folders loaded and saved back; and
// the refusals of PEFT's rules.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import type { ModelInputs, ModelOutput } from '../../src/models/index.js';
import { LayerNorm } from '../../src/nn/norm.js';
import { AdapterError, ConfigError, MergeError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { LNTuningConfig } from '../../src/peft/tuners/ln-tuning/config.js';
import { LNTuningLayer } from '../../src/peft/tuners/ln-tuning/layer.js';
import { TRANSFORMERS_MODELS_TO_LNTUNING_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { fixturePath } from '../helpers/paths.js';
import { assertSameConfigText, captureWarnings } from '../helpers/peft.js';
import {
  assertSetUpAsPeft,
  autoModelFor,
  buildFromSavedConfig,
  checkFixtureForwardAndMerges,
  checkFixtureOutputs as check,
  checkMergeAndUnload,
  checkPeftFolderRoundTrip,
  fixtureInputs as inputs,
  loadReference,
  perturbedCase,
  promptIa3Case,
  setFixtureParams,
} from '../helpers/prompt-ia3.js';

const ROOT = fixturePath('peft', 'ln-tuning');
const CASES = ['gpt2-ln-tuning', 'llama-ln-tuning', 'bert-ln-tuning', 't5-ln-tuning'];

type ForwardModel = { forward(x: ModelInputs): ModelOutput };

function run(model: ForwardModel, x: ModelInputs): ModelOutput {
  return noGrad(() => model.forward(x));
}

const perturbed = (name: string): ReturnType<typeof perturbedCase> => perturbedCase(name, ROOT);

test('the default LN tuning targets per model type are PEFT’s', () => {
  const ref = loadReference<{ ln_tuning_target_modules_mapping: unknown }>(ROOT);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_LNTUNING_TARGET_MODULES_MAPPING, ref.ln_tuning_target_modules_mapping);
});

for (const name of CASES) {
  test(`${name}: adapted modules, trainable parameters, counts, saved keys and shapes, saved config as PEFT`, async () => {
    const c = promptIa3Case(name, ROOT);
    const peft = await buildFromSavedConfig(c);
    assertSetUpAsPeft(peft, c, LNTuningLayer);
    const dir = mkdtempSync(join(tmpdir(), 'peftjs-ln-tuning-'));
    try {
      peft.savePretrained(dir);
      assertSameConfigText(readFileSync(join(dir, 'adapter_config.json'), 'utf8'), readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: outputs and gradients of the copies; disabled, merged, unmerged outputs; merge_and_unload`, async () => {
    const { expected, peft } = await perturbed(name);
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true });
    checkMergeAndUnload(peft, expected, LNTuningLayer, name);
  });

  test(`${name}: PEFT's saved adapter loads, gives PEFT's outputs and saves back byte for byte`, async () => {
    await checkPeftFolderRoundTrip(promptIa3Case(name, ROOT));
  });
}

test('gpt2-ln-tuning: a second adapter alone and merged; two active adapters refused as PEFT refuses them; delete; unload', async () => {
  const { c, expected, peft } = await perturbed('gpt2-ln-tuning');
  const x = inputs(expected);
  peft.addAdapter('other', new LNTuningConfig({ taskType: 'CAUSAL_LM', targetModules: '.*\\.ln_(1|2|f)' }));
  assert.deepEqual(peft.namedParameters().filter(([n, t]) => n.includes('.other.') && t.requiresGrad).map(([n]) => n), c.meta['other_trainable_when_added']);
  setFixtureParams(peft, expected);
  peft.setAdapter('other');
  check(run(peft, x), expected, 'other.', 'other');
  peft.mergeAdapter();
  check(run(peft, x), expected, 'other_merged.', 'other merged');
  peft.unmergeAdapter();

  assert.equal(c.meta['refuses_two_active'], true);
  assert.equal(c.meta['refuses_merging_two'], true);
  const tuner = peft.baseModel as unknown as { setAdapter(names: string[]): void; mergeAdapter(names: string[]): void };
  tuner.setAdapter(['default', 'other']);
  assert.throws(() => run(peft, x), (e: unknown) => e instanceof AdapterError && /2 adapters are active.*one adapter at a time/.test(e.message));
  peft.setAdapter('default');
  assert.throws(() => tuner.mergeAdapter(['default', 'other']), (e: unknown) => e instanceof MergeError && /one adapter at a time/.test(e.message));

  const ln = peft.getSubmodule('base_model.model.transformer.ln_f') as LNTuningLayer;
  ln.merge({ adapterNames: ['default'] });
  const { warnings } = captureWarnings(() => ln.merge({ adapterNames: ['other'] }));
  assert.ok(warnings.some((w) => /already merged with default; unmerging first/.test(w)), 'merging another adapter unmerges the first');
  assert.deepEqual(ln.mergedAdapters, ['other']);
  ln.enableAdapters(false);
  assert.equal(ln.merged, false, 'disabling unmerges');
  ln.enableAdapters(true);

  peft.deleteAdapter('other');
  assert.ok(!peft.namedParameters().some(([n]) => n.includes('.other.')));
  check(run(peft, x), expected, '', 'after deleting other');
  check(run(peft.unload() as unknown as ForwardModel, x), expected, 'disabled.', 'unload');
});

test('LNTuningConfig: PEFT’s fields and defaults, JSON both ways, and its checks', async () => {
  const config = new LNTuningConfig({ targetModules: new Set(['ln_f']), excludeModules: 'x', modulesToSave: ['score'] });
  const d = config.toDict();
  assert.deepEqual([d['peft_type'], d['target_modules'], d['exclude_modules'], d['modules_to_save']], ['LN_TUNING', ['ln_f'], 'x', ['score']]);
  const back = LNTuningConfig.fromJSON(JSON.parse(config.toJsonString({ inferenceMode: false })) as unknown);
  assert.deepEqual(back.toDict(), d);
  const defaults = new LNTuningConfig().toDict();
  assert.deepEqual([defaults['target_modules'], defaults['exclude_modules'], defaults['modules_to_save']], [null, null, null]);
  assert.throws(() => new LNTuningConfig({ targetModules: '(' }), (e: unknown) => e instanceof ConfigError && e.key === 'target_modules');
  assert.throws(() => LNTuningConfig.fromJSON({ peft_type: 'LN_TUNING', exclude_modules: 5 }), (e: unknown) => e instanceof ConfigError && e.key === 'exclude_modules');

  const c = promptIa3Case('bert-ln-tuning', ROOT);
  const bert = await autoModelFor(c).fromPretrained(c.baseDir);
  assert.throws(() => getPeftModel(bert, new LNTuningConfig({ taskType: 'SEQ_CLS' })), (e: unknown) => e instanceof ConfigError && /no default LN tuning targets for model type 'bert'/.test(e.message));
  assert.throws(() => getPeftModel(bert, new LNTuningConfig({ targetModules: ['attention'] })), (e: unknown) => e instanceof TargetModulesError && /with submodules/.test(e.message));
});

test('LNTuningLayer on its own: a separate trainable copy of the base module, under PEFT’s state-dict keys', () => {
  const base = new LayerNorm(4);
  const layer = new LNTuningLayer(base, 'default', { inferenceMode: false });
  const copy = layer.lnTuningLayers.get('default')!;
  assert.notEqual(copy, base);
  assert.equal(copy.parameter('weight')!.requiresGrad, true);
  copy.parameter('weight')!.data().fill(2);
  assert.deepEqual([...base.parameter('weight')!.data()], [1, 1, 1, 1], 'the copy does not share the base values');
  assert.deepEqual(Object.keys(Object.fromEntries(layer.stateDict())).sort(), ['base_layer.bias', 'base_layer.weight', 'ln_tuning_layers.default.bias', 'ln_tuning_layers.default.weight']);
});
