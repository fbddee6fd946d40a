// RandLoRA against the real PEFT on the tiny Llama (dense bases, default targets and alpha), BERT (SEQ_CLS, sparse
// bases, dropout, bias "randlora_only") and GPT-2 (Conv1D, very sparse bases, save_projection false, a negative
// projection key) of tools/fixtures/peft_randlora.py: bases bit for bit, targets, trainability, saved keys, outputs,
// gradients, disabling, merging, a second adapter sharing the bases, PEFT's folders loaded and saved back; and the
// errors of PEFT's rules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad, type Tensor } from '../../src/engine/index.js';
import { AutoModelForCausalLM, type ModelInputs, type ModelOutput, type PreTrainedModel } from '../../src/models/index.js';
import { BufferDict } from '../../src/nn/containers.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterError, ConfigError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import type { PeftModel } from '../../src/peft/peft-model.js';
import { randLoraBases } from '../../src/peft/tuners/randlora/bases.js';
import { RandLoraConfig } from '../../src/peft/tuners/randlora/config.js';
import { RandLoraLayer } from '../../src/peft/tuners/randlora/layer.js';
import type { RandLoraModel } from '../../src/peft/tuners/randlora/model.js';
import { TRANSFORMERS_MODELS_TO_RANDLORA_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
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

const RANDLORA_DIR = fixturePath('peft', 'randlora');
const CASES = ['llama-randlora', 'bert-randlora', 'gpt2-randlora'];

function randLoraCase(name: string): PromptIa3Case {
  return promptIa3Case(name, RANDLORA_DIR);
}

async function build(c: PromptIa3Case): Promise<PeftModel> {
  return (await captureWarningsAsync(() => buildFromSavedConfig(c))).result;
}

function run(peft: PeftModel, x: ModelInputs): ModelOutput {
  return noGrad(() => peft.forward(x));
}

function bases(peft: PeftModel): { A: Tensor; B: Tensor } {
  const tuner = peft.baseModel;
  return { A: tuner.child<BufferDict>('randlora_A').get('default')!, B: tuner.child<BufferDict>('randlora_B').get('default')! };
}

interface BasesDraw {
  key: number;
  r: number;
  shape: [number, number];
  sparse: boolean;
  very_sparse: boolean;
  A_shape: number[];
  B_shape: number[];
  A: number[];
  B: number[];
}

test('PEFT’s randlora_A / randlora_B (dense in bfloat16, sparse, very sparse) for several seeds and shapes, bit for bit', () => {
  const draws = loadReference<{ bases: BasesDraw[] }>(RANDLORA_DIR).bases;
  for (const d of draws) {
    const { A, B } = randLoraBases(d.key, { r: d.r, largestShape: d.shape, sparse: d.sparse, verySparse: d.very_sparse });
    const what = `key ${d.key}, r ${d.r}, shape ${d.shape}, sparse ${d.sparse}, very sparse ${d.very_sparse}`;
    assert.deepEqual([A.shape, B.shape], [d.A_shape, d.B_shape], what);
    assert.deepEqual([...A.data()], d.A, `randlora_A, ${what}`);
    assert.deepEqual([...B.data()], d.B, `randlora_B, ${what}`);
  }
});

test('the default RandLoRA targets per model type are PEFT’s', () => {
  const ref = loadReference<{ randlora_target_modules_mapping: unknown }>(RANDLORA_DIR);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_RANDLORA_TARGET_MODULES_MAPPING, ref.randlora_target_modules_mapping);
});

for (const name of CASES) {
  test(`${name}: bases (bit for bit), adapted modules, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = randLoraCase(name);
    const expected = loadExpected(c);
    const peft = await build(c);
    const { A, B } = bases(peft);
    assert.deepEqual(A.shape, expected.get('proj.randlora_A')!.shape);
    assert.deepEqual(B.shape, expected.get('proj.randlora_B')!.shape);
    assert.deepEqual(A.data(), expected.get('proj.randlora_A')!.data(), 'randlora_A');
    assert.deepEqual(B.data(), expected.get('proj.randlora_B')!.data(), 'randlora_B');
    assertSetUpAsPeft(peft, c, RandLoraLayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
  });

  test(`${name}: outputs and lambda / gamma gradients; disabled, merged and unmerged outputs`, async () => {
    const c = randLoraCase(name);
    const expected = loadExpected(c);
    const peft = await build(c);
    setFixtureParams(peft, expected);
    peft.eval();
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true });
    checkMergeAndUnload(peft, expected, RandLoraLayer, name);
  });

  test(`${name}: PEFT's saved adapter loads, gives PEFT's outputs and saves back byte for byte`, async () => {
    const warnings = await checkPeftFolderRoundTrip(randLoraCase(name));
    const regenerated = warnings.filter((w) => /regenerated from projection_prng_key instead of being loaded/.test(w));
    assert.equal(regenerated.length, name === 'gpt2-randlora' ? 1 : 0, 'the warning about bases regenerated from the key');
  });
}

test('gpt2-randlora: a second adapter shares the first one’s bases; both active add up; deleting it drops its entries', async () => {
  const c = randLoraCase('gpt2-randlora');
  const expected = loadExpected(c);
  const peft = await build(c);
  const config = peft.peftConfig.get('default') as RandLoraConfig;
  const other = captureWarnings(
    () => new RandLoraConfig({ taskType: 'CAUSAL_LM', r: config.r, targetModules: ['c_attn'], randloraAlpha: 8, projectionPrngKey: -5, saveProjection: false, verySparse: true }),
  ).result;
  peft.addAdapter('other', other);
  setFixtureParams(peft, expected);
  peft.eval();
  const tuner = peft.baseModel as RandLoraModel;
  const randloraA = tuner.child<BufferDict>('randlora_A');
  assert.equal(c.meta['other_shares_bases'], true);
  assert.equal(randloraA.get('other'), randloraA.get('default'), 'the same tensor');
  assert.ok(peft.namedParameters().filter(([n]) => n.endsWith('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  tuner.setAdapter(['default', 'other']);
  check(run(peft, inputs(expected)), expected, 'both.', 'both');
  peft.setAdapter('default');
  peft.deleteAdapter('other');
  assert.deepEqual(randloraA.keys(), ['default']);
  check(run(peft, inputs(expected)), expected, '', 'after deleting other');
});

test('RandLoRA adapters of one model must agree: projection key, save_projection, rank and layer sizes (PEFT’s errors)', async () => {
  const model = async (): Promise<PreTrainedModel> => AutoModelForCausalLM.fromPretrained(randLoraCase('gpt2-randlora').baseDir);
  const p = await getPeftModel(await model(), new RandLoraConfig({ taskType: 'CAUSAL_LM', r: 4, targetModules: ['c_attn'] }));
  const config = (options: ConstructorParameters<typeof RandLoraConfig>[0]): RandLoraConfig => captureWarnings(() => new RandLoraConfig({ taskType: 'CAUSAL_LM', ...options })).result;
  assert.throws(() => p.addAdapter('key', config({ r: 4, targetModules: ['c_attn'], projectionPrngKey: 1 })), (e: unknown) => e instanceof ConfigError && e.key === 'projection_prng_key');
  assert.throws(() => p.addAdapter('save', config({ r: 4, targetModules: ['c_attn'], saveProjection: false })), (e: unknown) => e instanceof ConfigError && e.key === 'save_projection');
  assert.throws(() => p.addAdapter('rank', config({ r: 8, targetModules: ['c_attn'] })), (e: unknown) => e instanceof AdapterError && /randlora_A has a size of 4 but 8 or greater is required.*lower rank/.test(e.message));
  assert.throws(() => p.addAdapter('wide', config({ r: 4, targetModules: ['c_fc'] })), (e: unknown) => e instanceof AdapterError && /randlora_B has a size of 96 but 128 or greater is required/.test(e.message));
  assert.deepEqual([...p.peftConfig.keys()], ['default'], 'refused adapters are not kept');
  const layers = [...p.namedModules()].filter(([, m]) => m instanceof RandLoraLayer) as [string, RandLoraLayer][];
  for (const [n, m] of layers) assert.deepEqual(m.availableAdapters(), ['default'], n);
  assert.deepEqual(p.baseModel.child<BufferDict>('randlora_A').keys(), ['default']);
});

test('RandLoraConfig: PEFT’s defaults and checks', () => {
  const d = new RandLoraConfig().toDict();
  assert.deepEqual(
    [d['r'], d['projection_prng_key'], d['save_projection'], d['sparse'], d['very_sparse'], d['randlora_dropout'], d['randlora_alpha'], d['bias'], d['init_weights'], d['fan_in_fan_out']],
    [32, 0, true, false, false, 0, 640, 'none', true, false],
  );
  assert.throws(() => new RandLoraConfig({ layersPattern: 'layers' }), (e: unknown) => e instanceof ConfigError && e.key === 'layers_pattern');
  assert.throws(() => new RandLoraConfig({ randloraDropout: 1.5 }), (e: unknown) => e instanceof ConfigError && e.key === 'randlora_dropout');
  assert.throws(() => new RandLoraConfig({ r: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'r');
  assert.throws(() => RandLoraConfig.fromJSON({ peft_type: 'RANDLORA', projection_prng_key: 2 ** 60 }), (e: unknown) => e instanceof ConfigError && e.key === 'projection_prng_key');
  assert.throws(() => RandLoraConfig.fromJSON({ peft_type: 'RANDLORA', bias: 'lora_only' }), (e: unknown) => e instanceof ConfigError && e.key === 'bias');
  const { warnings } = captureWarnings(() => RandLoraConfig.fromJSON({ peft_type: 'RANDLORA', save_projection: false }));
  assert.ok(warnings.some((w) => /save_projection is false/.test(w)));
});

test('RandLoRA merges: safeMerge refuses a lambda that makes the weights non-finite and leaves them alone; a plain merge warns', () => {
  const layer = (): RandLoraLayer => {
    const { A, B } = randLoraBases(0, { r: 2, largestShape: [3, 4], sparse: false, verySparse: false });
    const shared = { randloraA: new BufferDict(), randloraB: new BufferDict() };
    shared.randloraA.set('default', A);
    shared.randloraB.set('default', B);
    const l = new RandLoraLayer(new Linear(4, 3), 'default', shared, new RandLoraConfig({ r: 2 }), { key: 'blocks.0.proj' });
    l.randloraLambda.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  };
  assertNonFiniteMerges(layer);
});
