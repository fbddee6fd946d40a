// OFT against the real PEFT (tools/fixtures/peft_oft.py): the rotations of one packed weight (exact Cayley and
// Cayley-Neumann with 1 to 6 terms) and their gradients; on the tiny Llama (exact Cayley; Cayley-Neumann with shared
// blocks on every linear layer and a second adapter), BERT (COFT, an adjusted block size, bias "oft_only") and T5:
// targets, trainability, saved keys and config, outputs, gradients, disabling, merging, unmerging, PEFT's folders
// loaded and saved back; PEFT's block adjustments, refusals and config checks.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromArray, mul, noGrad, sum } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/io/index.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { AutoModelForCausalLM, type ModelInputs, type ModelOutput } from '../../src/models/index.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterWeightsError, ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { OFTConfig } from '../../src/peft/tuners/oft/config.js';
import { adjustOftParameters, OFTLayer } from '../../src/peft/tuners/oft/layer.js';
import { OFTRotation } from '../../src/peft/tuners/oft/rotation.js';
import { TRANSFORMERS_MODELS_TO_OFT_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
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
  checkSecondAdapter,
  fixtureInputs as inputs,
  loadExpected,
  loadReference,
  promptIa3Case,
  setFixtureParams,
} from '../helpers/prompt-ia3.js';

const ROOT = fixturePath('peft', 'oft');
const CASES = ['llama-oft', 'llama-oft-neumann-share', 'bert-oft-coft', 't5-oft'];

interface Reference {
  oft_target_modules_mapping: unknown;
  adjustments: [number, number, number][];
  gpt2_refusal: string;
  rotations: Record<string, { rotation: number[]; grad: number[] }> & { weight: number[]; probe: number[] };
}

function run(peft: PeftModel, x: ModelInputs): ModelOutput {
  return noGrad(() => peft.forward(x));
}

async function built(name: string): Promise<{ peft: PeftModel; warnings: string[] }> {
  return captureWarningsAsync(() => buildFromSavedConfig(promptIa3Case(name, ROOT))).then(({ result, warnings }) => ({ peft: result, warnings }));
}

test('the default OFT targets per model type are PEFT’s; block sizes and r are adjusted to divisors as PEFT does', () => {
  const ref = loadReference<Reference>(ROOT);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_OFT_TARGET_MODULES_MAPPING, ref.oft_target_modules_mapping);
  for (const [d, p, expected] of ref.adjustments) assert.equal(adjustOftParameters(d, p), expected, `in ${d}, ${p}`);
});

test('rotations: exact Cayley and Cayley-Neumann (1 to 6 terms) of one packed weight, and their gradients, as PEFT', () => {
  const ref = loadReference<Reference>(ROOT).rotations;
  for (const terms of [0, 1, 2, 3, 4, 5, 6]) {
    const key = terms === 0 ? 'exact' : `neumann_${terms}`;
    const rotation = new OFTRotation(2, 5, { coft: false, eps: 6e-5, blockShare: false, useCayleyNeumann: terms > 0, numCayleyNeumannTerms: terms, initWeights: true });
    rotation.weight.data().set(ref.weight);
    const r = rotation.rotation();
    assertTensorMatches(r, fromArray(ref[key]!.rotation, [2, 5, 5]), { atol: 1e-6, rtol: 0 }, `${key} rotation`);
    if (!r.requiresGrad) {
      assert.ok(ref[key]!.grad.every((g) => g === 0), `${key}: PEFT's rotation does not depend on the weight either`);
      continue;
    }
    sum(mul(r, fromArray(ref.probe, [2, 5, 5]))).backward();
    assertTensorMatches(rotation.weight.grad!, fromArray(ref[key]!.grad, [2, 10]), { atol: 1e-5, rtol: 0 }, `${key} gradient`);
  }
});

for (const name of CASES) {
  test(`${name}: adapted modules, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = promptIa3Case(name, ROOT);
    const { peft, warnings } = await built(name);
    assertSetUpAsPeft(peft, c, OFTLayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    const adjusted = warnings.filter((w) => /oft_block_size 5 does not divide the layer's (32|64) input features; adjusted oft_block_size to 4/.test(w));
    assert.equal(adjusted.length, name === 'bert-oft-coft' ? 8 : 0, 'the warnings about adjusted block sizes');
  });

  test(`${name}: outputs and gradients; disabled, merged (safe) and unmerged outputs; merge_and_unload`, async () => {
    const c = promptIa3Case(name, ROOT);
    const expected = loadExpected(c);
    const { peft } = await built(name);
    setFixtureParams(peft, expected);
    peft.eval();
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true, unmergedAtol: 1e-5 });
    checkMergeAndUnload(peft, expected, OFTLayer, name);
  });

  test(`${name}: PEFT's saved adapter loads, saves back byte for byte and gives PEFT's outputs`, async () => {
    await checkPeftFolderRoundTrip(promptIa3Case(name, ROOT));
  });
}

test('bert-oft-coft: the forward pass projects the weights in place onto PEFT’s (the ones it saved after its own)', async () => {
  const c = promptIa3Case('bert-oft-coft', ROOT);
  const expected = loadExpected(c);
  const { peft } = await built('bert-oft-coft');
  setFixtureParams(peft, expected);
  run(peft, inputs(expected));
  const saved = loadSafetensors(join(c.dir, 'adapter_model.safetensors'));
  let projected = 0;
  for (const [k, t] of peft.getAdapterStateDict()) {
    if (!k.endsWith('.oft_R.weight')) continue;
    assertTensorMatches(t, saved.get(k)!, { atol: 1e-7, rtol: 1e-5 }, k);
    const given = expected.get(`param.${k.replace('.oft_R.weight', '.oft_R.default.weight')}`)!;
    if (given.toArray().some((v, i) => v !== t.data()[i])) projected++;
  }
  assert.ok(projected > 0, 'some blocks were outside the constraint and projected');
});

test('llama-oft-neumann-share: a second adapter (exact Cayley) rotates after the first, merged in order; deleting it', async () => {
  const c = promptIa3Case('llama-oft-neumann-share', ROOT);
  const expected = loadExpected(c);
  const { peft } = await built('llama-oft-neumann-share');
  peft.addAdapter('other', new OFTConfig({ taskType: 'CAUSAL_LM', oftBlockSize: 8, useCayleyNeumann: false, targetModules: ['q_proj', 'k_proj'] }));
  checkSecondAdapter(peft, expected);
});

test('init_weights true leaves the outputs unchanged (identity rotations); module_dropout changes nothing in training, as in PEFT 0.21', async () => {
  const c = promptIa3Case('llama-oft', ROOT);
  const expected = loadExpected(c);
  const x = inputs(expected);
  const fresh = getPeftModel(await AutoModelForCausalLM.fromPretrained(c.baseDir), new OFTConfig({ taskType: 'CAUSAL_LM', oftBlockSize: 8 }));
  check(run(fresh, x), expected, 'disabled.', 'init_weights true');
  const dropping = getPeftModel(await AutoModelForCausalLM.fromPretrained(c.baseDir), new OFTConfig({ taskType: 'CAUSAL_LM', oftBlockSize: 8, useCayleyNeumann: false, moduleDropout: 0.5 }));
  setFixtureParams(dropping, expected);
  dropping.train();
  check(run(dropping, x), expected, '', 'training with module_dropout 0.5');
});

test('OFT refuses GPT-2’s Conv1D as PEFT does, and checkpoints of the format before PEFT 0.14', async () => {
  const ref = loadReference<Reference>(ROOT);
  assert.match(ref.gpt2_refusal, /Conv1D.*is not supported/);
  const gpt2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  assert.throws(() => getPeftModel(gpt2, new OFTConfig({ taskType: 'CAUSAL_LM', oftBlockSize: 4 })), (e: unknown) => e instanceof TargetModulesError && /Conv1D; OFT supports Linear/.test(e.message));

  const c = promptIa3Case('llama-oft', ROOT);
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-oft-'));
  try {
    writeFileSync(join(dir, 'adapter_config.json'), readFileSync(join(c.dir, 'adapter_config.json')));
    const weights = loadSafetensors(join(c.dir, 'adapter_model.safetensors'));
    const renamed = Object.fromEntries([...weights].map(([k, t]) => [k.replace('.oft_R.', '.oft_r.'), t]));
    saveSafetensors(join(dir, 'adapter_model.safetensors'), renamed, { format: 'pt' });
    await assert.rejects(PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(c.baseDir), dir), (e: unknown) => e instanceof AdapterWeightsError && e.key!.includes('.oft_r.'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OFTConfig: PEFT’s defaults and checks; saved configs of old formats', () => {
  const d = new OFTConfig().toDict();
  assert.deepEqual(
    [d['r'], d['oft_block_size'], d['module_dropout'], d['fan_in_fan_out'], d['bias'], d['init_weights'], d['coft'], d['eps'], d['block_share'], d['use_cayley_neumann'], d['num_cayley_neumann_terms']],
    [0, 32, 0, false, 'none', true, false, 6e-5, false, true, 5],
  );
  const key = (k: string) => (e: unknown) => e instanceof ConfigError && e.key === k;
  assert.throws(() => new OFTConfig({ r: 4 }), key('r'), 'r and oft_block_size both set');
  assert.throws(() => new OFTConfig({ r: 0, oftBlockSize: 0 }), key('r'), 'neither set');
  assert.throws(() => new OFTConfig({ oftBlockSize: -4 }), key('oft_block_size'));
  assert.throws(() => new OFTConfig({ layersPattern: 'layers' }), key('layers_pattern'));
  assert.throws(() => new OFTConfig({ moduleDropout: 2 }), key('module_dropout'));
  assert.throws(() => OFTConfig.fromJSON({ peft_type: 'OFT', oft_block_size: 4, bias: 'lora_only' }), key('bias'));
  assert.throws(() => OFTConfig.fromJSON({ peft_type: 'OFT', r: 8 }), (e: unknown) => e instanceof ConfigError && e.key === 'oft_block_size' && /before 0\.14/.test(e.message));
  const old = captureWarnings(() => OFTConfig.fromJSON({ peft_type: 'OFT', oft_block_size: 4, use_cayley_neumann: true, peft_version: '0.17.1' }));
  assert.ok(old.warnings.some((w) => /changed in PEFT 0\.18\.0/.test(w)));
  const unversioned = captureWarnings(() => OFTConfig.fromJSON({ peft_type: 'OFT', oft_block_size: 4, use_cayley_neumann: true }));
  assert.equal(unversioned.warnings.length, 1, 'no peft_version: older than 0.18');
  for (const version of ['0.18.0', '0.21.0@abc', '1.0.0']) {
    assert.deepEqual(captureWarnings(() => OFTConfig.fromJSON({ peft_type: 'OFT', oft_block_size: 4, use_cayley_neumann: true, peft_version: version })).warnings, [], version);
  }
});

test('OFT merges: safeMerge refuses a weight that makes the merged weights non-finite and leaves them alone; a plain merge warns', () => {
  assertNonFiniteMerges(() => {
    const l = new OFTLayer(new Linear(4, 3), 'default', new OFTConfig({ oftBlockSize: 2 }), { key: 'blocks.0.proj' });
    l.oftR.get('default')!.weight.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  });
});
