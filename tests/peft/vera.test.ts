// VeRA against the real PEFT on the tiny Llama, BERT (SEQ_CLS, bias "vera_only") and GPT-2 (Conv1D, save_projection
// false, a negative projection key) of tools/fixtures/peft_vera.py: projections bit for bit, targets, trainability,
// saved keys, outputs, gradients, disabling, merging, a second adapter sharing the projections, PEFT's folders loaded
// and saved back; and the errors of PEFT's rules.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad, type Tensor } from '../../src/engine/index.js';
import { TorchCpuGenerator } from '../../src/engine/torch-cpu-random.js';
import { loadSafetensors } from '../../src/io/index.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { AutoModelForCausalLM, type ModelInputs, type ModelOutput, type PreTrainedModel } from '../../src/models/index.js';
import { BufferDict } from '../../src/nn/containers.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterError, AdapterWeightsError, ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { VeraConfig } from '../../src/peft/tuners/vera/config.js';
import { VeraLayer } from '../../src/peft/tuners/vera/layer.js';
import { VeraModel } from '../../src/peft/tuners/vera/model.js';
import { kaimingInit } from '../../src/peft/tuners/vera/projections.js';
import { TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
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
  promptIa3Case,
  type PromptIa3Case,
  setFixtureParams,
} from '../helpers/prompt-ia3.js';

const VERA_DIR = fixturePath('peft', 'vera');
const CASES = ['llama-vera', 'bert-vera', 'gpt2-vera'];

function veraCase(name: string): PromptIa3Case {
  return promptIa3Case(name, VERA_DIR);
}

/** A fresh PeftModel with the case's config (the task class adds its head to modules_to_save, as PEFT's does). */
async function build(c: PromptIa3Case): Promise<PeftModel> {
  return (await captureWarningsAsync(() => buildFromSavedConfig(c))).result;
}

function run(peft: PeftModel, x: ModelInputs): ModelOutput {
  return noGrad(() => peft.forward(x));
}

function projections(peft: PeftModel): { A: Tensor; B: Tensor } {
  const tuner = peft.baseModel;
  return { A: tuner.child<BufferDict>('vera_A').get('default')!, B: tuner.child<BufferDict>('vera_B').get('default')! };
}

test('torch CPU generator: PEFT’s kaiming draws for several seeds, bit for bit', () => {
  const draws = loadReference<{ kaiming_draws: Record<string, number[]> }>(VERA_DIR).kaiming_draws;
  for (const [seed, values] of Object.entries(draws)) {
    const t = kaimingInit(new TorchCpuGenerator(Number(seed)), 3, 37);
    assert.deepEqual([...t.data()], values, `seed ${seed}`);
  }
  assert.throws(() => new TorchCpuGenerator(2 ** 60), /safe integer/);
});

test('the default VeRA targets per model type are PEFT’s', () => {
  const ref = loadReference<{ vera_target_modules_mapping: unknown }>(VERA_DIR);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING, ref.vera_target_modules_mapping);
});

for (const name of CASES) {
  test(`${name}: projections (bit for bit), adapted modules, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = veraCase(name);
    const expected = loadExpected(c);
    const peft = await build(c);
    const { A, B } = projections(peft);
    assert.deepEqual(A.shape, expected.get('proj.vera_A')!.shape);
    assert.deepEqual(B.shape, expected.get('proj.vera_B')!.shape);
    assert.deepEqual(A.data(), expected.get('proj.vera_A')!.data(), 'vera_A');
    assert.deepEqual(B.data(), expected.get('proj.vera_B')!.data(), 'vera_B');
    assertSetUpAsPeft(peft, c, VeraLayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
  });

  test(`${name}: outputs and lambda gradients; disabled, merged and unmerged outputs`, async () => {
    const c = veraCase(name);
    const expected = loadExpected(c);
    const peft = await build(c);
    setFixtureParams(peft, expected);
    peft.eval();
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true });
    checkMergeAndUnload(peft, expected, VeraLayer, name);
  });

  test(`${name}: PEFT's saved adapter loads, gives PEFT's outputs and saves back byte for byte`, async () => {
    const warnings = await checkPeftFolderRoundTrip(veraCase(name));
    const regenerated = warnings.filter((w) => /regenerated from projection_prng_key instead of being loaded/.test(w));
    assert.equal(regenerated.length, name === 'gpt2-vera' ? 1 : 0, 'the warning about projections regenerated from the key');
  });
}

test('gpt2-vera: a second adapter shares the first one’s projections; both active add up; deleting it drops its entries', async () => {
  const c = veraCase('gpt2-vera');
  const expected = loadExpected(c);
  const peft = await build(c);
  const config = peft.peftConfig.get('default') as VeraConfig;
  peft.addAdapter('other', new VeraConfig({ taskType: 'CAUSAL_LM', r: config.r, targetModules: ['c_attn'], projectionPrngKey: -5, saveProjection: false }));
  setFixtureParams(peft, expected);
  peft.eval();
  const tuner = peft.baseModel as VeraModel;
  const veraA = tuner.child<BufferDict>('vera_A');
  assert.equal(c.meta['other_shares_projections'], true);
  assert.equal(veraA.get('other'), veraA.get('default'), 'the same tensor');
  assert.ok(peft.namedParameters().filter(([n]) => n.endsWith('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  tuner.setAdapter(['default', 'other']);
  check(run(peft, inputs(expected)), expected, 'both.', 'both');
  peft.setAdapter('default');
  peft.deleteAdapter('other');
  assert.deepEqual(veraA.keys(), ['default']);
  check(run(peft, inputs(expected)), expected, '', 'after deleting other');
});

test('VeRA adapters of one model must agree: projection key, save_projection, rank and layer sizes (PEFT’s errors)', async () => {
  const model = async (): Promise<PreTrainedModel> => AutoModelForCausalLM.fromPretrained(veraCase('gpt2-vera').baseDir);
  const peft = captureWarnings(async () => getPeftModel(await model(), new VeraConfig({ taskType: 'CAUSAL_LM', r: 4, targetModules: ['c_attn'] }))).result;
  const p = await peft;
  assert.throws(() => p.addAdapter('key', new VeraConfig({ taskType: 'CAUSAL_LM', r: 4, targetModules: ['c_attn'], projectionPrngKey: 1 })), (e: unknown) => e instanceof ConfigError && e.key === 'projection_prng_key');
  const noSave = captureWarnings(() => new VeraConfig({ taskType: 'CAUSAL_LM', r: 4, targetModules: ['c_attn'], saveProjection: false })).result;
  assert.throws(() => p.addAdapter('save', noSave), (e: unknown) => e instanceof ConfigError && e.key === 'save_projection');
  assert.throws(() => p.addAdapter('rank', new VeraConfig({ taskType: 'CAUSAL_LM', r: 8, targetModules: ['c_attn'] })), (e: unknown) => e instanceof AdapterError && /vera_A has a size of 4 but 8 or greater is required.*lower rank/.test(e.message));
  assert.throws(() => p.addAdapter('wide', new VeraConfig({ taskType: 'CAUSAL_LM', r: 4, targetModules: ['c_proj'] })), (e: unknown) => e instanceof AdapterError && /vera_A has a size of 32 but 128 or greater is required/.test(e.message));
  assert.deepEqual([...p.peftConfig.keys()], ['default'], 'refused adapters are not kept');
  const layers = [...p.namedModules()].filter(([, m]) => m instanceof VeraLayer) as [string, VeraLayer][];
  assert.deepEqual(layers.map(([n]) => n.split('.').slice(-2).join('.')), ['attn.c_attn', 'attn.c_attn']);
  for (const [n, m] of layers) assert.deepEqual(m.availableAdapters(), ['default'], n);
  assert.deepEqual(p.baseModel.child<BufferDict>('vera_A').keys(), ['default']);
  assert.throws(() => getPeftModel(captureWarnings(() => p.unload()).result, new VeraConfig({ targetModules: ['wte'] })), TargetModulesError);
});

test('VeraConfig: PEFT’s defaults and checks', () => {
  const d = new VeraConfig().toDict();
  assert.deepEqual(
    [d['r'], d['projection_prng_key'], d['save_projection'], d['vera_dropout'], d['d_initial'], d['bias'], d['init_weights'], d['fan_in_fan_out']],
    [256, 0, true, 0, 0.1, 'none', true, false],
  );
  assert.throws(() => new VeraConfig({ layersPattern: 'layers' }), (e: unknown) => e instanceof ConfigError && e.key === 'layers_pattern');
  assert.throws(() => new VeraConfig({ veraDropout: 1.5 }), (e: unknown) => e instanceof ConfigError && e.key === 'vera_dropout');
  assert.throws(() => new VeraConfig({ r: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'r');
  assert.throws(() => VeraConfig.fromJSON({ peft_type: 'VERA', projection_prng_key: 2 ** 60 }), (e: unknown) => e instanceof ConfigError && e.key === 'projection_prng_key');
  assert.throws(() => VeraConfig.fromJSON({ peft_type: 'VERA', bias: 'lora_only' }), (e: unknown) => e instanceof ConfigError && e.key === 'bias');
  const { warnings } = captureWarnings(() => VeraConfig.fromJSON({ peft_type: 'VERA', save_projection: false }));
  assert.ok(warnings.some((w) => /save_projection is false/.test(w)));
});

test('save_projection: a checkpoint without projections is refused when they are expected; flipping it after creation cannot save', async () => {
  const c = veraCase('llama-vera');
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-vera-'));
  try {
    writeFileSync(join(dir, 'adapter_config.json'), readFileSync(join(c.dir, 'adapter_config.json')));
    const weights = loadSafetensors(join(c.dir, 'adapter_model.safetensors'));
    weights.delete('base_model.vera_A');
    weights.delete('base_model.vera_B');
    saveSafetensors(join(dir, 'adapter_model.safetensors'), Object.fromEntries(weights), { format: 'pt' });
    await assert.rejects(PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(c.baseDir), dir), (e: unknown) => e instanceof AdapterWeightsError && e.key === 'base_model.vera_A');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const gpt2 = veraCase('gpt2-vera');
  const peft = await build(gpt2);
  (peft.peftConfig.get('default') as VeraConfig).saveProjection = true;
  assert.throws(() => peft.getAdapterStateDict(), (e: unknown) => e instanceof AdapterError && /save_projection false/.test(e.message));
});

test('VeRA merges: safeMerge refuses a lambda that makes the weights non-finite and leaves them alone; a plain merge warns', () => {
  const layer = (): VeraLayer => {
    const projections = { veraA: new BufferDict(), veraB: new BufferDict() };
    projections.veraA.set('default', kaimingInit(new TorchCpuGenerator(0), 2, 4));
    projections.veraB.set('default', kaimingInit(new TorchCpuGenerator(1), 3, 2));
    const l = new VeraLayer(new Linear(4, 3), 'default', projections, new VeraConfig({ r: 2 }), { key: 'blocks.0.proj' });
    l.veraLambdaB.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  };
  assertNonFiniteMerges(layer);
});
