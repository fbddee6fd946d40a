// LoHa and LoKr against the real PEFT on the tiny Llama, BERT and T5 (tools/fixtures/peft_lycoris.py): targets,
// saved keys and config, trainability, outputs, gradients of the factors, disabling, merging, unmerging, several
// adapters, PEFT-saved adapters loaded and saved back; the configs' defaults and checks, factorization, init,
// dropout in training and safe merges.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import { AutoModelForCausalLM, type ModelInputs, type ModelOutput } from '../../src/models/index.js';
import { Conv1D, Linear } from '../../src/nn/linear.js';
import { ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { PeftConfig } from '../../src/peft/config.js';
import { LoHaConfig } from '../../src/peft/tuners/loha/config.js';
import { LoHaLayer } from '../../src/peft/tuners/loha/layer.js';
import type { LoHaModel } from '../../src/peft/tuners/loha/model.js';
import { LoKrConfig } from '../../src/peft/tuners/lokr/config.js';
import { factorization, LoKrLayer } from '../../src/peft/tuners/lokr/layer.js';
import { LycorisLayer } from '../../src/peft/tuners/lycoris-utils.js';
import { TRANSFORMERS_MODELS_TO_LOHA_TARGET_MODULES_MAPPING, TRANSFORMERS_MODELS_TO_LOKR_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { assertNonFiniteMerges, assertSameConfigText } from '../helpers/peft.js';
import { fixturePath } from '../helpers/paths.js';
import {
  assertSetUpAsPeft,
  autoModelFor,
  buildFromSavedConfig,
  checkFixtureForwardAndMerges,
  checkFixtureOutputs as check,
  checkPeftFolderRoundTrip,
  fixtureInputs as inputs,
  loadExpected,
  loadReference,
  perturbedCase,
  promptIa3Case,
  setFixtureParams,
} from '../helpers/prompt-ia3.js';

const ROOT = fixturePath('peft', 'lycoris');
const CASES = ['llama-loha', 'bert-loha', 't5-loha', 'llama-lokr', 'bert-lokr', 't5-lokr'];

type ForwardModel = { forward(x: ModelInputs): ModelOutput };

function run(peft: PeftModel, x: ModelInputs): ModelOutput {
  return noGrad(() => peft.forward(x));
}

const perturbed = (name: string): ReturnType<typeof perturbedCase> => perturbedCase(name, ROOT);

for (const name of CASES) {
  test(`${name}: adapted modules, trainable parameters, counts, saved keys and shapes, saved config as PEFT`, async () => {
    const c = promptIa3Case(name, ROOT);
    const peft = await buildFromSavedConfig(c);
    assertSetUpAsPeft(peft, c, LycorisLayer);
    const dir = mkdtempSync(join(tmpdir(), 'peftjs-lycoris-'));
    try {
      peft.savePretrained(dir);
      const ours = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      const theirs = JSON.parse(readFileSync(join(c.dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
      assertSameConfigText(readFileSync(join(dir, 'adapter_config.json'), 'utf8'), readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: outputs and gradients of the factors; disabled, merged and unmerged outputs`, async () => {
    const { expected, peft } = await perturbed(name);
    checkFixtureForwardAndMerges(peft, expected, name);
  });

  test(`${name}: PEFT's saved adapter loads through PeftModel, gives PEFT's outputs and saves back byte for byte`, async () => {
    await checkPeftFolderRoundTrip(promptIa3Case(name, ROOT));
  });
}

test('llama-loha: a second adapter, both active, deleting it; merge_and_unload and unload', async () => {
  const { expected, peft } = await perturbed('llama-loha');
  const x = inputs(expected);
  peft.addAdapter('other', new LoHaConfig({ taskType: 'CAUSAL_LM', r: 2, alpha: 3, targetModules: ['q_proj', 'k_proj'] }));
  assert.ok(peft.namedParameters().filter(([n]) => n.endsWith('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  setFixtureParams(peft, expected);
  const tuner = peft.baseModel as LoHaModel;
  tuner.setAdapter(['default', 'other']);
  check(run(peft, x), expected, 'both.', 'both');
  peft.deleteAdapter('other');
  assert.ok(!peft.namedParameters().some(([n]) => n.includes('.other')));
  check(run(peft, x), expected, '', 'after deleting other');
  const merged = peft.mergeAndUnload();
  assert.ok(![...merged.namedModules()].some(([, m]) => m instanceof LycorisLayer));
  check(noGrad(() => (merged as unknown as ForwardModel).forward(x)), expected, 'merged.', 'merge_and_unload');

  const again = await perturbed('llama-lokr');
  const base = again.peft.unload();
  check(noGrad(() => (base as unknown as ForwardModel).forward(inputs(again.expected))), again.expected, 'disabled.', 'unload');
});

test('init_weights true (and LoKr "lycoris") leaves the outputs unchanged; false draws every factor kaiming-uniform', async () => {
  const c = promptIa3Case('llama-lokr', ROOT);
  const expected = loadExpected(c);
  const x = inputs(expected);
  const configs = [new LoHaConfig({ taskType: 'CAUSAL_LM' }), new LoKrConfig({ taskType: 'CAUSAL_LM' }), new LoKrConfig({ taskType: 'CAUSAL_LM', initWeights: 'lycoris', r: 1, decomposeBoth: true })];
  for (const config of configs) {
    const peft = getPeftModel(await autoModelFor(c).fromPretrained(c.baseDir), config);
    check(run(peft, x), expected, 'disabled.', `${config.peftType} init ${String(config.initWeights)}`);
  }
  for (const config of [new LoHaConfig({ taskType: 'CAUSAL_LM', initWeights: false }), new LoKrConfig({ taskType: 'CAUSAL_LM', initWeights: false, r: 1, decomposeBoth: true })]) {
    const peft = getPeftModel(await autoModelFor(c).fromPretrained(c.baseDir), config);
    const logits = run(peft, x).logits!.toArray();
    const base = expected.get('disabled.logits')!.toArray();
    assert.ok(logits.some((v, i) => Math.abs(v - base[i]!) > 1e-3), `${config.peftType}: init false changes the outputs`);
    for (const [n, t] of peft.namedParameters().filter(([, p]) => p.requiresGrad)) {
      const bound = 1 / Math.sqrt(t.shape[1]!);
      const v = t.toArray();
      assert.ok(v.every((e) => Math.abs(e) <= bound) && v.some((e) => e !== 0), `${n}: U(±1/√${t.shape[1]})`);
    }
  }
});

test('LoHa / LoKr default targets, default configs and factorization are PEFT’s; GPT-2’s Conv1D is refused as PEFT refuses it', async () => {
  const ref = loadReference<{
    loha_target_modules_mapping: unknown;
    lokr_target_modules_mapping: unknown;
    default_configs: Record<string, unknown>;
    factorization: [number, number, [number, number]][];
    gpt2_error: string;
  }>(ROOT);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_LOHA_TARGET_MODULES_MAPPING, ref.loha_target_modules_mapping);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_LOKR_TARGET_MODULES_MAPPING, ref.lokr_target_modules_mapping);
  assert.deepEqual(new LoHaConfig().toDict(), ref.default_configs['LOHA']);
  assert.deepEqual(new LoKrConfig().toDict(), ref.default_configs['LOKR']);
  for (const [d, f, split] of ref.factorization) assert.deepEqual(factorization(d, f), split, `factorization(${d}, ${f})`);

  assert.match(ref.gpt2_error, /Conv1D.* not supported/);
  const gpt2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  for (const config of [new LoHaConfig({ taskType: 'CAUSAL_LM' }), new LoKrConfig({ taskType: 'CAUSAL_LM' })]) {
    assert.throws(() => getPeftModel(gpt2, config), (e: unknown) => e instanceof TargetModulesError && e.message.includes(`'transformer.h.0.attn.c_attn' is a Conv1D; ${config.peftType}`));
  }
  assert.ok(gpt2.getSubmodule('transformer.h.0.attn.c_attn') instanceof Conv1D, 'nothing was replaced');
});

test('LyCORIS configs: fromJSON round trip, camelCase or snake_case keys, and errors that name the key', () => {
  const lokr = new LoKrConfig({ r: 4, alpha: 2.5, decomposeBoth: true, decomposeFactor: 8, initWeights: 'lycoris', targetModules: new Set(['q']), rankPattern: { q: 2 }, layersToTransform: [0], layersPattern: 'layers' });
  const back = PeftConfig.fromJSON(JSON.parse(lokr.toJsonString({ inferenceMode: false })) as unknown);
  assert.ok(back instanceof LoKrConfig);
  assert.deepEqual(back.toDict(), lokr.toDict());
  assert.match(lokr.toJsonString(), /"alpha": 2\.5,/);
  assert.equal(LoHaConfig.fromJSON({ peft_type: 'LOHA', rank_dropout: 0.25 }).rankDropout, 0.25);
  const bad: [() => unknown, string][] = [
    [() => new LoHaConfig({ layersPattern: 'layers' }), 'layers_pattern'],
    [() => new LoKrConfig({ initWeights: 'gaussian' as never }), 'initWeights'],
    [() => LoHaConfig.fromJSON({ peft_type: 'LOHA', init_weights: 'lycoris' }), 'init_weights'],
    [() => new LoHaConfig({ r: 0 }), 'r'],
    [() => new LoKrConfig({ rankDropout: 1.5 }), 'rank_dropout'],
    [() => new LoHaConfig({ moduleDropout: -0.1 }), 'module_dropout'],
    [() => new LoHaConfig({ rankPattern: { '(': 2 } }), 'rank_pattern'],
    [() => new LoHaConfig({ decomposeBoth: true } as never), 'decomposeBoth'],
    [() => LoKrConfig.fromJSON({ peft_type: 'LOHA' }), 'peft_type'],
  ];
  for (const [make, key] of bad) assert.throws(make, (e: unknown) => e instanceof ConfigError && e.key === key, key);
});

test('dropout in training: module_dropout 1 skips the adapter, rank dropout keeps whole rows of ΔW (rescaled for LoHa and with rank_dropout_scale)', () => {
  const x = new Linear(6, 1, { bias: false }).weight.detach().view([1, 6]);
  const lokr = new LoKrLayer(new Linear(6, 8), 'default', new LoKrConfig({ initWeights: false, moduleDropout: 1 }), { r: 2, alpha: 2 });
  const base = noGrad(() => (lokr.getBaseLayer() as Linear).forward(x)).toArray();
  lokr.train();
  assert.deepEqual(noGrad(() => lokr.forward(x)).toArray(), base);
  lokr.eval();
  assert.notDeepEqual(noGrad(() => lokr.forward(x)).toArray(), base);

  // A zero base layer: the outputs are the adapter's delta alone.
  const zeroLinear = (): Linear => {
    const l = new Linear(6, 64);
    l.weight.data().fill(0);
    l.bias!.data().fill(0);
    return l;
  };
  const cases: [LycorisLayer, boolean][] = [
    [new LoHaLayer(zeroLinear(), 'default', new LoHaConfig({ initWeights: false, rankDropout: 0.5 }), { r: 2, alpha: 2 }), true],
    [new LoKrLayer(zeroLinear(), 'default', new LoKrConfig({ initWeights: false, rankDropout: 0.5 }), { r: 2, alpha: 2 }), false],
    [new LoKrLayer(zeroLinear(), 'default', new LoKrConfig({ initWeights: false, rankDropout: 0.5, rankDropoutScale: true }), { r: 2, alpha: 2 }), true],
  ];
  for (const [layer, rescaled] of cases) {
    const full = noGrad(() => layer.eval().forward(x)).toArray();
    layer.train();
    const kept = noGrad(() => layer.forward(x)).toArray().map((v, i) => v / full[i]!);
    const scales = kept.filter((k) => k !== 0);
    assert.ok(scales.length > 0 && scales.length < kept.length, `${layer.typeName}: some rows dropped, some kept`);
    const expectedScale = rescaled ? kept.length / scales.length : 1;
    for (const k of scales) assert.ok(Math.abs(k - expectedScale) < 1e-3, `${layer.typeName}: a kept row scaled by ${k}, expected ${expectedScale}`);
  }
});

test('LyCORIS merges: safeMerge refuses factors that make the weights non-finite and leaves them alone; a plain merge warns', () => {
  const layer = (): LoHaLayer => {
    const l = new LoHaLayer(new Linear(4, 3), 'default', new LoHaConfig({ initWeights: false }), { r: 2, alpha: 2 }, 'blocks.0.proj');
    l.factors('default').hada_w1_a.data()[0] = Number.POSITIVE_INFINITY;
    return l;
  };
  assertNonFiniteMerges(layer);
});
