// MiSS against the real PEFT (tools/fixtures/peft_miss.py): on the tiny Llama (balance r 4 on the default targets with a
// second, randomly initialised adapter whose r 5 leaves a partial shard; bat r 4 on every linear layer with a second bat
// adapter of r 8), BERT (mini with mini_r 8, dropout, bias "MiSS_only") and T5 (balance, random init, r 3, one block):
// targets, trainability, saved keys and config, outputs, gradients, disabling, merging, unmerging, PEFT's folders loaded
// and saved back; refusals and config checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Generator, noGrad, randn } from '../../src/engine/index.js';
import { AutoModelForCausalLM, type ModelInputs, type ModelOutput } from '../../src/models/index.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterError, ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { MissConfig, type MissConfigOptions } from '../../src/peft/tuners/miss/config.js';
import { MissLayer } from '../../src/peft/tuners/miss/layer.js';
import { TRANSFORMERS_MODELS_TO_MISS_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { fixturePath } from '../helpers/paths.js';
import { assertNonFiniteMerges, assertSameAdapterConfig } from '../helpers/peft.js';
import {
  assertSetUpAsPeft,
  buildFromSavedConfig,
  checkFixtureForwardAndMerges,
  checkFixtureOutputs as check,
  checkMergeAndUnload,
  checkPeftFolderRoundTrip,
  checkSecondAdapter,
  fixtureInputs as inputs,
  loadExpected,
  loadReference,
  perturbedCase,
  promptIa3Case,
} from '../helpers/prompt-ia3.js';

const ROOT = fixturePath('peft', 'miss');
const CASES = ['llama-miss', 'llama-miss-bat', 'bert-miss-mini', 't5-miss'];

interface Reference {
  miss_target_modules_mapping: unknown;
  gpt2_refusal: string;
}

function run(peft: PeftModel, x: ModelInputs): ModelOutput {
  return noGrad(() => peft.forward(x));
}

test('the default MiSS targets per model type are PEFT’s', () => {
  assert.deepEqual(TRANSFORMERS_MODELS_TO_MISS_TARGET_MODULES_MAPPING, loadReference<Reference>(ROOT).miss_target_modules_mapping);
});

for (const name of CASES) {
  test(`${name}: adapted modules, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = promptIa3Case(name, ROOT);
    const peft = await buildFromSavedConfig(c);
    assertSetUpAsPeft(peft, c, MissLayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
  });

  test(`${name}: outputs and gradients; disabled, merged (safe) and unmerged outputs; merge_and_unload`, async () => {
    const { expected, peft } = await perturbedCase(name, ROOT);
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true, unmergedAtol: 1e-5 });
    checkMergeAndUnload(peft, expected, MissLayer, name);
  });

  test(`${name}: PEFT's saved adapter loads, saves back byte for byte and gives PEFT's outputs`, async () => {
    await checkPeftFolderRoundTrip(promptIa3Case(name, ROOT));
  });
}

const SECOND: Record<string, MissConfigOptions> = {
  'llama-miss': { r: 5, initWeights: false, targetModules: ['q_proj', 'o_proj'] },
  'llama-miss-bat': { r: 8, initWeights: 'bat', targetModules: ['q_proj', 'down_proj'] },
};

for (const [name, options] of Object.entries(SECOND)) {
  test(`${name}: a second adapter (r ${options.r}) beside the first, both active and merged in order; deleting it`, async () => {
    const c = promptIa3Case(name, ROOT);
    const peft = await buildFromSavedConfig(c);
    peft.addAdapter('other', new MissConfig({ taskType: 'CAUSAL_LM', ...options }));
    checkSecondAdapter(peft, loadExpected(c));
  });
}

test('init_weights true, "bat" and "mini" start from zero blocks, leaving the outputs unchanged; init_weights false does not', async () => {
  const c = promptIa3Case('llama-miss', ROOT);
  const expected = loadExpected(c);
  const x = inputs(expected);
  const base = () => AutoModelForCausalLM.fromPretrained(c.baseDir);
  for (const initWeights of [true, 'bat', 'mini'] as const) {
    check(run(getPeftModel(await base(), new MissConfig({ taskType: 'CAUSAL_LM', r: 4, miniR: 2, initWeights })), x), expected, 'disabled.', `init_weights ${initWeights}`);
  }
  const logits = run(getPeftModel(await base(), new MissConfig({ taskType: 'CAUSAL_LM', r: 4, initWeights: false })), x).logits!;
  const disabled = expected.get('disabled.logits')!.data();
  assert.ok(logits.toArray().some((v, i) => Math.abs(v - disabled[i]!) > 1e-3), 'init_weights false');
});

test('MiSS refuses GPT-2’s Conv1D as PEFT does; only one adapter may train biases', async () => {
  const ref = loadReference<Reference>(ROOT);
  assert.match(ref.gpt2_refusal, /Conv1D.*is not supported/);
  const gpt2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  assert.throws(() => getPeftModel(gpt2, new MissConfig({ taskType: 'CAUSAL_LM', r: 2 })), (e: unknown) => e instanceof TargetModulesError && /Conv1D; MiSS supports Linear/.test(e.message));
  const { peft } = await perturbedCase('bert-miss-mini', ROOT);
  assert.throws(() => peft.addAdapter('other', new MissConfig({ taskType: 'SEQ_CLS', r: 2, initWeights: 'mini', bias: 'all', targetModules: ['query'] })), AdapterError);
});

test('MiSS layers refuse an r above in_features, shards that do not divide for "bat" or "mini", and a second variant', () => {
  const layer = (options: MissConfigOptions) => new MissLayer(new Linear(12, 8), 'default', new MissConfig(options), { key: 'blocks.0.proj' });
  const refused = (pattern: RegExp) => (e: unknown) => e instanceof AdapterError && /blocks\.0\.proj/.test(e.message) && pattern.test(e.message);
  assert.throws(() => layer({ r: 13 }), refused(/r \(13\) must be at most in_features \(12\)/));
  assert.throws(() => layer({ r: 3, initWeights: 'bat' }), refused(/"bat" needs r \(3\) to divide in_features \(12\) and out_features \(8\)/));
  assert.throws(() => layer({ r: 4, miniR: 3, initWeights: 'mini' }), refused(/"mini" needs mini_r \(3\) to divide out_features \(8\)/));
  const balance = layer({ r: 4 });
  balance.updateLayer('random', new MissConfig({ r: 6, initWeights: false }));
  assert.deepEqual(balance.missBlock.get('random')!.shape, [6, 8]);
  assert.throws(() => balance.updateLayer('other', new MissConfig({ r: 4, initWeights: 'bat' })), refused(/"bat" adapter, but this layer's first adapter made it a "balance" layer/));
  assert.deepEqual(layer({ r: 4, initWeights: 'bat' }).missBlock.get('default')!.shape, [2, 4, 4]);
  assert.deepEqual(layer({ r: 4, miniR: 2, initWeights: 'mini' }).missBlock.get('default')!.shape, [4, 2]);
});

test('MissConfig: PEFT’s defaults and checks', () => {
  const d = new MissConfig().toDict();
  assert.deepEqual(
    [d['r'], d['miss_dropout'], d['mini_r'], d['init_weights'], d['bias'], d['target_modules'], d['exclude_modules'], d['layers_to_transform'], d['layers_pattern'], d['modules_to_save']],
    [64, 0, 1, true, 'none', null, null, null, null, null],
  );
  assert.equal(MissConfig.fromJSON({ peft_type: 'MISS', init_weights: 'bat' }).initWeights, 'bat');
  assert.equal(new MissConfig({ initWeights: 'mini', miniR: 4 }).toDict()['init_weights'], 'mini');
  const key = (k: string) => (e: unknown) => e instanceof ConfigError && e.key === k;
  assert.throws(() => new MissConfig({ r: 0 }), key('r'));
  assert.throws(() => MissConfig.fromJSON({ peft_type: 'MISS', mini_r: 0 }), key('mini_r'));
  assert.throws(() => new MissConfig({ missDropout: 1.5 }), key('miss_dropout'));
  assert.throws(() => MissConfig.fromJSON({ peft_type: 'MISS', init_weights: 'pissa' }), key('init_weights'));
  assert.throws(() => new MissConfig({ targetModules: '.*q_proj', layersToTransform: [0] }), key('layers_to_transform'));
  assert.throws(() => MissConfig.fromJSON({ peft_type: 'MISS', bias: 'miss_only' }), key('bias'));
});

test('MiSS merges: safeMerge refuses blocks that make the merged weights non-finite and leaves them alone; a plain merge warns', () => {
  for (const initWeights of [true, 'bat'] as const) {
    assertNonFiniteMerges(() => {
      const l = new MissLayer(new Linear(4, 4), 'default', new MissConfig({ r: 2, initWeights }), { key: 'blocks.0.proj' });
      l.missBlock.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
      return l;
    });
  }
});

test('miss_dropout drops input features in training only; the bat variant, as in PEFT, has no dropout', () => {
  const x = randn([2, 3, 8], { generator: new Generator(3) });
  for (const initWeights of [false, 'bat'] as const) {
    const l = new MissLayer(new Linear(8, 8), 'default', new MissConfig({ r: 4, initWeights, missDropout: 0.5 }), { key: 'blocks.0.proj' });
    l.missBlock.get('default')!.data().fill(0.5);
    l.eval();
    const evaluated = noGrad(() => l.forward(x)).toArray();
    l.train();
    const trained = noGrad(() => l.forward(x)).toArray();
    const differs = trained.some((v, i) => Math.abs(v - evaluated[i]!) > 1e-4);
    assert.equal(differs, initWeights === false, `init_weights ${initWeights}`);
  }
});
