// BOFT against the real PEFT on its CPU path (tools/fixtures/peft_boft.py): on the tiny Llama (block size 4 with a
// second adapter; block count 4 with a butterfly factor of 2 on every linear layer, and training with boft_dropout 1),
// BERT (block size 8, bias "boft_only") and T5 (block count 2, butterfly factor 2, boft_dropout): targets,
// trainability, saved keys and config, outputs, gradients, disabling, merging, unmerging, PEFT's folders loaded and
// saved back; PEFT's default targets, refusals and config checks; the multiplicative dropout's block count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad, randn, sum } from '../../src/engine/index.js';
import { AutoModelForCausalLM, type ModelInputs, type ModelOutput } from '../../src/models/index.js';
import { Linear } from '../../src/nn/linear.js';
import { ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { BOFTConfig } from '../../src/peft/tuners/boft/config.js';
import { MultiplicativeDropout } from '../../src/peft/tuners/boft/dropout.js';
import { BOFTLayer } from '../../src/peft/tuners/boft/layer.js';
import type { BOFTModel } from '../../src/peft/tuners/boft/model.js';
import { TRANSFORMERS_MODELS_TO_BOFT_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import { fixturePath } from '../helpers/paths.js';
import { assertNonFiniteMerges, assertSameAdapterConfig, captureWarnings, captureWarningsAsync } from '../helpers/peft.js';
import {
  assertSetUpAsPeft,
  buildFromSavedConfig,
  checkFixtureForwardAndMerges,
  checkFixtureOutputs as check,
  checkMergeAndUnload,
  checkPeftFolderRoundTrip,
  fixtureInputs as inputs,
  loadExpected,
  loadReference,
  perturbedCase,
  promptIa3Case,
  setFixtureParams,
} from '../helpers/prompt-ia3.js';

const ROOT = fixturePath('peft', 'boft');
const CASES = ['llama-boft', 'llama-boft-num-butterfly2', 'bert-boft', 't5-boft'];
const BUTTERFLY2 = new Set(['llama-boft-num-butterfly2', 't5-boft']);

interface Reference {
  boft_target_modules_mapping: unknown;
  gpt2_refusal: string;
  block_size_refusal: string;
  block_num_refusal: string;
  butterfly_warnings: string[];
}

function run(peft: PeftModel, x: ModelInputs): ModelOutput {
  return noGrad(() => peft.forward(x));
}

const butterflyWarning = (w: string): boolean => /^boft_n_butterfly_factor is 2, but BOFT layers compute a single butterfly factor/.test(w);

test('the default BOFT targets per model type are PEFT’s; GPT-2’s Conv1D and block sizes or counts that do not divide a layer are refused', async () => {
  const ref = loadReference<Reference>(ROOT);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_BOFT_TARGET_MODULES_MAPPING, ref.boft_target_modules_mapping);
  assert.match(ref.gpt2_refusal, /Conv1D.*is not supported/);
  const gpt2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  assert.throws(() => getPeftModel(gpt2, new BOFTConfig({ taskType: 'CAUSAL_LM' })), (e: unknown) => e instanceof TargetModulesError && /Conv1D; BOFT supports Linear/.test(e.message));

  assert.match(ref.block_size_refusal, /in_features \(32\) must be divisible by boft_block_size \(5\)/);
  assert.match(ref.block_num_refusal, /in_features \(32\) must be divisible by boft_block_num \(3\)/);
  for (const [options, key, given] of [[{ boftBlockSize: 5 }, 'boft_block_size', 5], [{ boftBlockSize: 0, boftBlockNum: 3 }, 'boft_block_num', 3]] as const) {
    const llama = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'llama-lm'));
    assert.throws(
      () => getPeftModel(llama, new BOFTConfig({ ...options, targetModules: ['q_proj'] })),
      (e: unknown) => e instanceof ConfigError && e.key === key && e.message.includes(`(${given}) must divide the in_features (32) of model.layers.0.self_attn.q_proj`),
    );
    assert.ok(![...llama.namedModules()].some(([, m]) => m instanceof BOFTLayer), 'no layer was replaced');
  }
});

for (const name of CASES) {
  test(`${name}: adapted modules, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = promptIa3Case(name, ROOT);
    const { result: peft, warnings } = await captureWarningsAsync(() => buildFromSavedConfig(c));
    assertSetUpAsPeft(peft, c, BOFTLayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    assert.equal(warnings.filter(butterflyWarning).length, BUTTERFLY2.has(name) ? 1 : 0, 'the warning that one butterfly factor is computed');
    if (BUTTERFLY2.has(name)) assert.ok(loadReference<Reference>(ROOT).butterfly_warnings.includes('Setting boft_n_butterfly_factor to 1 to speed up the finetuning process.'));
  });

  test(`${name}: outputs and gradients; disabled, merged (safe) and unmerged outputs; merge_and_unload`, async () => {
    const { expected, peft } = await captureWarningsAsync(() => perturbedCase(name, ROOT)).then((r) => r.result);
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true, unmergedAtol: 1e-5 });
    checkMergeAndUnload(peft, expected, BOFTLayer, name);
  });

  test(`${name}: PEFT's saved adapter loads, saves back byte for byte and gives PEFT's outputs`, async () => {
    await checkPeftFolderRoundTrip(promptIa3Case(name, ROOT));
  });
}

test('llama-boft: a second adapter (block count 2) beside the first: both active compose as in PEFT, merged in order; deleting it', async () => {
  const { expected, peft } = await perturbedCase('llama-boft', ROOT);
  peft.addAdapter('other', new BOFTConfig({ taskType: 'CAUSAL_LM', boftBlockSize: 0, boftBlockNum: 2, targetModules: ['q_proj', 'k_proj'] }));
  assert.ok(peft.namedParameters().filter(([n]) => n.includes('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  setFixtureParams(peft, expected);
  const x = inputs(expected);
  const tuner = peft.baseModel as BOFTModel;
  tuner.setAdapter(['default', 'other']);
  check(run(peft, x), expected, 'both.', 'both');
  tuner.mergeAdapter(['default', 'other']);
  check(run(peft, x), expected, 'both_merged.', 'both merged');
  tuner.unmergeAdapter();
  peft.setAdapter('default');
  peft.deleteAdapter('other');
  assert.ok(!peft.namedParameters().some(([n]) => n.includes('.other')));
  check(run(peft, x), expected, '', 'after deleting other');
});

test('llama-boft-num-butterfly2: training with boft_dropout 1 replaces every block by the identity and keeps the scales, as PEFT', async () => {
  const c = promptIa3Case('llama-boft-num-butterfly2', ROOT);
  const expected = loadExpected(c);
  const config = new BOFTConfig({ taskType: 'CAUSAL_LM', boftBlockSize: 0, boftBlockNum: 4, boftDropout: 1, targetModules: 'all-linear' });
  const peft = getPeftModel(await AutoModelForCausalLM.fromPretrained(c.baseDir), config);
  setFixtureParams(peft, expected);
  peft.train();
  // In training the causal LM computes its loss without materialising the logits.
  const loss = noGrad(() => peft.forward(inputs(expected))).loss!;
  assertTensorMatches(loss.view([1]), expected.get('dropped.loss')!, { atol: 0, rtol: 1e-5 }, 'training with boft_dropout 1: loss');
  peft.eval();
  check(run(peft, inputs(expected)), expected, '', 'evaluation ignores boft_dropout');
});

test('multiplicative dropout: in training ⌊p · blocks⌋ blocks become the identity, the others pass with their gradients; evaluation passes all', () => {
  const blocks = randn([10, 3, 3]);
  blocks.requiresGrad = true;
  const dropout = new MultiplicativeDropout(0.35);
  const out = dropout.forward(blocks);
  const eye = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const values = out.toArray();
  const given = blocks.toArray();
  let identities = 0;
  for (let b = 0; b < 10; b++) {
    const block = [...values.slice(b * 9, (b + 1) * 9)];
    if (block.every((v, i) => v === eye[i])) identities++;
    else assert.deepEqual(block, [...given.slice(b * 9, (b + 1) * 9)], `block ${b} passes unchanged`);
  }
  assert.equal(identities, 3);
  sum(out).backward();
  const grads = blocks.grad!.toArray();
  assert.equal([...grads].filter((g) => g === 0).length, 27, 'no gradient reaches the dropped blocks');
  dropout.eval();
  assert.equal(dropout.forward(blocks), blocks);
});

test('init_weights: true gives the identity (the base outputs); false draws rotations and scales around them', async () => {
  const c = promptIa3Case('llama-boft', ROOT);
  const expected = loadExpected(c);
  const x = inputs(expected);
  const fresh = getPeftModel(await AutoModelForCausalLM.fromPretrained(c.baseDir), new BOFTConfig({ taskType: 'CAUSAL_LM' }));
  check(run(fresh, x), expected, 'disabled.', 'init_weights true');
  const drawn = getPeftModel(await AutoModelForCausalLM.fromPretrained(c.baseDir), new BOFTConfig({ taskType: 'CAUSAL_LM', initWeights: false }));
  const values = (part: string): number[] => drawn.namedParameters().filter(([n]) => n.includes(part)).flatMap(([, t]) => [...t.toArray()]);
  const stats = (v: number[]): [number, number] => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return [mean, Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length)];
  };
  const [rMean, rStd] = stats(values('.boft_R.'));
  const [sMean, sStd] = stats(values('.boft_s.'));
  assert.ok(Math.abs(rMean) < 0.02 && Math.abs(rStd - 0.1) < 0.02, `boft_R ~ N(0, 0.1²): ${rMean}, ${rStd}`);
  assert.ok(Math.abs(sMean - 1) < 0.05 && Math.abs(sStd - 0.1) < 0.03, `boft_s ~ N(1, 0.1²): ${sMean}, ${sStd}`);
});

test('BOFTConfig: PEFT’s defaults and checks', () => {
  const d = new BOFTConfig().toDict();
  assert.deepEqual(
    [d['boft_block_size'], d['boft_block_num'], d['boft_n_butterfly_factor'], d['boft_dropout'], d['fan_in_fan_out'], d['bias'], d['init_weights'], d['target_modules']],
    [4, 0, 1, 0, false, 'none', true, null],
  );
  const key = (k: string) => (e: unknown) => e instanceof ConfigError && e.key === k;
  assert.throws(() => new BOFTConfig({ boftBlockNum: 4 }), key('boft_block_size'), 'block size and count both set');
  assert.throws(() => new BOFTConfig({ boftBlockSize: 0 }), key('boft_block_size'), 'neither set');
  assert.throws(() => new BOFTConfig({ boftBlockSize: -4 }), key('boft_block_size'));
  assert.throws(() => new BOFTConfig({ boftBlockSize: 0, boftBlockNum: -2 }), key('boft_block_num'));
  assert.throws(() => new BOFTConfig({ boftNButterflyFactor: 0 }), key('boft_n_butterfly_factor'));
  assert.throws(() => new BOFTConfig({ boftDropout: 1.5 }), key('boft_dropout'));
  assert.throws(() => new BOFTConfig({ layersPattern: 'layers' }), key('layers_pattern'));
  assert.throws(() => BOFTConfig.fromJSON({ peft_type: 'BOFT', bias: 'oft_only' }), key('bias'));
  const loaded = BOFTConfig.fromJSON({ peft_type: 'BOFT', boft_block_size: 0, boft_block_num: 8, boft_n_butterfly_factor: 3, bias: 'boft_only' });
  assert.deepEqual([loaded.boftBlockSize, loaded.boftBlockNum, loaded.boftNButterflyFactor, loaded.bias], [0, 8, 3, 'boft_only']);
  const layer = captureWarnings(() => new BOFTLayer(new Linear(8, 4), 'default', loaded)).result;
  assert.deepEqual(layer.boftR.get('default')!.shape, [1, 8, 1, 1], 'one butterfly factor, whatever the config says');
  assert.deepEqual(layer.boftS.get('default')!.shape, [4, 1]);
});

test('BOFT merges: safeMerge refuses a weight that makes the merged weights non-finite and leaves them alone; a plain merge warns', () => {
  assertNonFiniteMerges(() => {
    const l = new BOFTLayer(new Linear(4, 3), 'default', new BOFTConfig({ boftBlockSize: 2 }), { key: 'blocks.0.proj' });
    l.boftS.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  });
});
