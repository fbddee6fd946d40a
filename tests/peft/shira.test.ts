// SHiRA against the real PEFT on the tiny Llama (default targets, unseeded mask, a second adapter) and BERT (SEQ_CLS,
// seeded mask) of tools/fixtures/peft_shira.py: the random mask's indices, targets, trainability, saved keys, outputs,
// gradients of the weights, disabling, merging, PEFT's folders loaded (indices from the file) and saved back; and
// PEFT's refusals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import { fromArray } from '../../src/engine/ops/creation.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterError, ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { ShiraConfig } from '../../src/peft/tuners/shira/config.js';
import { ShiraLayer } from '../../src/peft/tuners/shira/layer.js';
import { randomMaskIndices } from '../../src/peft/tuners/shira/mask.js';
import { TRANSFORMERS_MODELS_TO_SHIRA_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { fixturePath } from '../helpers/paths.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import { assertNonFiniteMerges, assertSameAdapterConfig } from '../helpers/peft.js';
import {
  assertSetUpAsPeft,
  buildFromSavedConfig,
  checkFixtureForwardAndMerges,
  checkMergeAndUnload,
  checkPeftFolderRoundTrip,
  checkSecondAdapter,
  loadExpected,
  loadReference,
  promptIa3Case,
  type PromptIa3Case,
  setFixtureParams,
} from '../helpers/prompt-ia3.js';

const SHIRA_DIR = fixturePath('peft', 'shira');
const CASES = ['llama-shira', 'bert-shira'];

function shiraCase(name: string): PromptIa3Case {
  return promptIa3Case(name, SHIRA_DIR);
}

function indicesOf(layer: ShiraLayer, adapter: string): number[][] {
  const t = layer.shiraIndices.get(adapter)!;
  const flat = [...t.data()];
  const n = t.shape[1]!;
  return [flat.slice(0, n), flat.slice(n)];
}

test('the default SHiRA targets per model type are PEFT’s', () => {
  const ref = loadReference<{ shira_target_modules_mapping: unknown }>(SHIRA_DIR);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_SHIRA_TARGET_MODULES_MAPPING, ref.shira_target_modules_mapping);
});

test('randomMaskIndices are PEFT’s random_mask positions for seeded, negative, 64-bit and unseeded generators', () => {
  const masks = loadReference<{ masks: { in: number; out: number; r: number; seed: number | null; rows: number[]; cols: number[] }[] }>(SHIRA_DIR).masks;
  assert.ok(masks.some((m) => m.seed === null));
  for (const m of masks) {
    const t = randomMaskIndices(m.out, m.in, m.r, m.seed);
    assert.equal(t.dtype, 'int32');
    const n = m.r * (m.in + m.out);
    assert.deepEqual(t.shape, [2, n]);
    assert.deepEqual([...t.data()], [...m.rows, ...m.cols], `${m.out} x ${m.in} r=${m.r} seed=${m.seed}`);
  }
});

for (const name of CASES) {
  test(`${name}: adapted modules, their mask indices, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = shiraCase(name);
    const peft = await buildFromSavedConfig(c);
    assertSetUpAsPeft(peft, c, ShiraLayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    const indices = c.meta['indices'] as Record<string, number[][]>;
    for (const [key, m] of peft.namedModules()) if (m instanceof ShiraLayer) assert.deepEqual(indicesOf(m, 'default'), indices[key], `${key} indices`);
  });

  test(`${name}: outputs, gradients of the weights; disabled, merged and unmerged outputs`, async () => {
    const c = shiraCase(name);
    const expected = loadExpected(c);
    const peft = await buildFromSavedConfig(c);
    setFixtureParams(peft, expected);
    peft.eval();
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true });
    checkMergeAndUnload(peft, expected, ShiraLayer, name);
  });

  test(`${name}: PEFT's saved adapter (weights and indices) loads, gives PEFT's outputs and saves back`, async () => {
    await checkPeftFolderRoundTrip(shiraCase(name));
  });
}

test('llama-shira: a second adapter with its own seed and rank; both active add up, merged in order; deleting it', async () => {
  const c = shiraCase('llama-shira');
  const peft = await buildFromSavedConfig(c);
  peft.addAdapter('other', new ShiraConfig({ taskType: 'CAUSAL_LM', r: 2, randomSeed: 5, targetModules: ['q_proj', 'down_proj'] }));
  const otherIndices = c.meta['other_indices'] as Record<string, number[][]>;
  const withOther = [...peft.namedModules()].filter(([, m]) => m instanceof ShiraLayer && m.hasAdapter('other'));
  assert.deepEqual(withOther.map(([k]) => k).sort(), Object.keys(otherIndices).sort());
  for (const [key, m] of withOther) assert.deepEqual(indicesOf(m as ShiraLayer, 'other'), otherIndices[key], `${key} indices of other`);
  checkSecondAdapter(peft, loadExpected(c));
});

test('SHiRA refuses what PEFT refuses: more weights than the layer has, layers other than Linear', async () => {
  const c = shiraCase('llama-shira');
  const base = await AutoModelForCausalLM.fromPretrained(c.baseDir);
  assert.throws(
    () => getPeftModel(base, new ShiraConfig({ r: 100, targetModules: ['q_proj'] })),
    (e: unknown) => e instanceof AdapterError && /q_proj: r = 100 gives r · \(in \+ out\) = \d+ SHiRA weights, more than the layer's/.test(e.message),
  );
  assert.throws(() => getPeftModel(base, new ShiraConfig({ r: 1, targetModules: ['embed_tokens'] })), TargetModulesError);
});

test('ShiraConfig: PEFT’s defaults and checks', () => {
  const d = new ShiraConfig().toDict();
  assert.deepEqual(
    [d['r'], d['mask_type'], d['random_seed'], d['fan_in_fan_out'], d['init_weights'], d['target_modules'], d['modules_to_save']],
    [32, 'random', null, false, true, null, null],
  );
  assert.throws(() => ShiraConfig.fromJSON({ peft_type: 'SHIRA', r: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'r');
  assert.throws(() => ShiraConfig.fromJSON({ peft_type: 'SHIRA', mask_type: 'custom' }), (e: unknown) => e instanceof ConfigError && e.key === 'mask_type');
  assert.throws(() => ShiraConfig.fromJSON({ peft_type: 'SHIRA', random_seed: 1.5 }), (e: unknown) => e instanceof ConfigError && e.key === 'random_seed');
  assert.throws(() => new ShiraConfig({ targetModules: '(' }), (e: unknown) => e instanceof ConfigError && e.key === 'target_modules');
});

test('init_weights starts the weights at zero: the layer gives the base output', () => {
  const base = new Linear(6, 4);
  const layer = new ShiraLayer(base, 'default', new ShiraConfig({ r: 1 }));
  assert.deepEqual([...layer.shiraWeight.get('default')!.toArray()], Array(10).fill(0));
  const x = fromArray(Array.from({ length: 12 }, (_, i) => i / 10 - 0.5), [2, 6]);
  assertTensorMatches(noGrad(() => layer.forward(x)), noGrad(() => base.forward(x)), { atol: 0, rtol: 0 }, 'zero weights');
});

test('loaded indices are checked against the weights and the layer’s shape', () => {
  const layer = new ShiraLayer(new Linear(6, 4), 'default', new ShiraConfig({ r: 1 }), { key: 'proj' });
  const x = fromArray(Array(6).fill(1), [1, 6]);
  const rows = [0, 0, 0, 0, 1, 1, 1, 2, 2];
  const cols = [0, 1, 2, 3, 0, 1, 2, 0, 1];
  const setIndices = (r: number[], c: number[]): void => void layer.shiraIndices.set('default', fromArray([...r, ...c], [2, r.length], 'int32'));
  setIndices([...rows, 3], [...cols, 9]);
  assert.throws(() => layer.forward(x), (e: unknown) => e instanceof AdapterError && /proj: .*position \(3, 9\) outside the \[4, 6\] weight/.test(e.message));
  setIndices(rows, cols);
  assert.throws(() => layer.forward(x), (e: unknown) => e instanceof AdapterError && /must be int32 \[2, 10\]/.test(e.message));
  setIndices([...rows, 2], [...cols, 1]);
  assert.throws(() => layer.forward(x), (e: unknown) => e instanceof AdapterError && /repeats position \(2, 1\)/.test(e.message));
});

test('SHiRA merges: safeMerge refuses weights that make the base weight non-finite and leaves it alone; a plain merge warns', () => {
  assertNonFiniteMerges(() => {
    const l = new ShiraLayer(new Linear(4, 2), 'default', new ShiraConfig({ r: 1 }), { key: 'blocks.0.proj' });
    l.shiraWeight.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  });
});
