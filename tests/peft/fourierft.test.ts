// FourierFT against the real PEFT on the tiny Llama (default targets), BERT (SEQ_CLS, bias "fourier_only",
// n_frequency_pattern with one full spectrum) and GPT-2 (Conv1D, a second adapter) of tools/fixtures/peft_fourierft.py:
// torch's randperm, the spectral positions, targets, trainability, saved keys, outputs, gradients of the spectra,
// disabling, merging, PEFT's folders loaded (positions drawn again from the seed) and saved back; and PEFT's refusals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import { EngineError } from '../../src/engine/errors.js';
import { mul } from '../../src/engine/ops/binary.js';
import { fromArray } from '../../src/engine/ops/creation.js';
import { sum } from '../../src/engine/ops/reduce.js';
import { TorchCpuGenerator } from '../../src/engine/torch-cpu-random.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterError, ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { FourierFTConfig } from '../../src/peft/tuners/fourierft/config.js';
import { FourierFTLayer } from '../../src/peft/tuners/fourierft/layer.js';
import { type FourierFTModel, nFrequencyFor } from '../../src/peft/tuners/fourierft/model.js';
import { inverseDftDelta, spectralPositions } from '../../src/peft/tuners/fourierft/spectrum.js';
import { TRANSFORMERS_MODELS_TO_FOURIERFT_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { fixturePath } from '../helpers/paths.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import { assertNonFiniteMerges, assertSameAdapterConfig, captureWarnings } from '../helpers/peft.js';
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

const FOURIERFT_DIR = fixturePath('peft', 'fourierft');
const CASES = ['llama-fourierft', 'bert-fourierft', 'gpt2-fourierft'];

function fourierftCase(name: string): PromptIa3Case {
  return promptIa3Case(name, FOURIERFT_DIR);
}

test('the default FourierFT targets per model type are PEFT’s', () => {
  const ref = loadReference<{ fourierft_target_modules_mapping: unknown }>(FOURIERFT_DIR);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_FOURIERFT_TARGET_MODULES_MAPPING, ref.fourierft_target_modules_mapping);
});

test('randperm draws torch’s CPU permutations for small and large n, negative and 64-bit seeds', () => {
  const cases = loadReference<{ randperm: { n: number; seed: number; values: number[] }[] }>(FOURIERFT_DIR).randperm;
  assert.ok(cases.some((c) => c.n > 2 ** 24));
  for (const { n, seed, values } of cases) {
    assert.deepEqual([...new TorchCpuGenerator(seed).randperm(n, values.length)], values, `n=${n} seed=${seed}`);
  }
  const full = [...new TorchCpuGenerator(0).randperm(10)];
  assert.deepEqual([...full].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.throws(() => new TorchCpuGenerator(0).randperm(2 ** 28, 1), (e: unknown) => e instanceof EngineError && /64-bit draws/.test(e.message));
  assert.throws(() => new TorchCpuGenerator(0).randperm(5, 6), EngineError);
});

test('inverseDftDelta is the real part of the inverse 2-D DFT of the sparse spectrum, and linear in it', () => {
  const positions = { rows: Int32Array.from([0, 2, 1]), cols: Int32Array.from([3, 0, 1]) };
  const s = [0.5, -1.25, 2];
  const [M, N, scaling] = [3, 4, 7];
  const want: number[] = [];
  // d(Σ ΔW ⊙ G) / d s_f = scaling / (M · N) · Σ G · wave_f, with G[p, q] = p + 2q.
  const wantGrad = [0, 0, 0];
  for (let p = 0; p < M; p++) {
    for (let q = 0; q < N; q++) {
      let v = 0;
      for (let f = 0; f < 3; f++) {
        const wave = (Math.cos(2 * Math.PI * ((positions.rows[f]! * p) / M + (positions.cols[f]! * q) / N)) * scaling) / (M * N);
        v += s[f]! * wave;
        wantGrad[f] += (p + 2 * q) * wave;
      }
      want.push(v);
    }
  }
  const spectrum = fromArray(s, [3]);
  spectrum.requiresGrad = true;
  const delta = inverseDftDelta(spectrum, positions, M, N, scaling);
  assertTensorMatches(delta, fromArray(want, [M, N]), { atol: 1e-6, rtol: 0 }, 'delta');
  const weights = fromArray(Array.from({ length: M * N }, (_, i) => Math.floor(i / N) + 2 * (i % N)), [M, N]);
  sum(mul(delta, weights)).backward();
  assertTensorMatches(spectrum.grad!, fromArray(wantGrad, [3]), { atol: 1e-5, rtol: 0 }, 'gradient');
});

test('a SmolLM-sized 576 x 1536 layer with 1000 frequencies: the delta weight is PEFT’s (torch.fft.ifft2) to 1e-6', () => {
  const ref = loadReference<{ large_delta: { out: number; in: number; seed: number; scaling: number; spectrum: number[]; rows: number[]; cols: number[]; values: number[] } }>(FOURIERFT_DIR).large_delta;
  const positions = spectralPositions(ref.seed, ref.out, ref.in, ref.spectrum.length);
  const delta = noGrad(() => inverseDftDelta(fromArray(ref.spectrum, [ref.spectrum.length]), positions, ref.out, ref.in, ref.scaling)).data();
  const got = ref.rows.map((p, i) => delta[p * ref.in + ref.cols[i]!]!);
  assertTensorMatches(fromArray(got, [got.length]), fromArray(ref.values, [got.length]), { atol: 1e-6, rtol: 0 }, 'sampled delta entries');
});

for (const name of CASES) {
  test(`${name}: adapted modules, their spectral positions, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = fourierftCase(name);
    const peft = await buildFromSavedConfig(c);
    assertSetUpAsPeft(peft, c, FourierFTLayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    const indices = c.meta['indices'] as Record<string, [number[], number[]]>;
    for (const [key, m] of peft.namedModules()) {
      if (!(m instanceof FourierFTLayer)) continue;
      const { rows, cols } = m.positions('default');
      assert.deepEqual([[...rows], [...cols]], indices[key], `${key} positions`);
    }
  });

  test(`${name}: outputs, gradients of the spectra; disabled, merged and unmerged outputs`, async () => {
    const c = fourierftCase(name);
    const expected = loadExpected(c);
    const peft = await buildFromSavedConfig(c);
    setFixtureParams(peft, expected);
    peft.eval();
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true });
    checkMergeAndUnload(peft, expected, FourierFTLayer, name);
  });

  test(`${name}: PEFT's saved adapter loads (positions drawn again from the seed), gives PEFT's outputs and saves back`, async () => {
    await checkPeftFolderRoundTrip(fourierftCase(name));
  });
}

test('gpt2-fourierft: a second adapter with its own seed and size; both active add up; deleting it restores the first', async () => {
  const c = fourierftCase('gpt2-fourierft');
  const expected = loadExpected(c);
  const peft = await buildFromSavedConfig(c);
  peft.addAdapter('other', new FourierFTConfig({ taskType: 'CAUSAL_LM', nFrequency: 40, scaling: 6, randomLocSeed: 5, targetModules: ['c_attn'], fanInFanOut: true }));
  setFixtureParams(peft, expected);
  peft.eval();
  assert.ok(peft.namedParameters().filter(([n]) => n.endsWith('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  (peft.baseModel as FourierFTModel).setAdapter(['default', 'other']);
  check(noGrad(() => peft.forward(inputs(expected))), expected, 'both.', 'both');
  peft.setAdapter('default');
  peft.deleteAdapter('other');
  check(noGrad(() => peft.forward(inputs(expected))), expected, '', 'after deleting other');
});

test('n_frequency_pattern: the first key matching after a dot, else the exact key, else n_frequency', () => {
  const config = { nFrequency: 10, nFrequencyPattern: { value: 3, 'layer\\.1\\.output\\.dense': 7, top: 5 } };
  assert.equal(nFrequencyFor(config, 'bert.encoder.layer.0.attention.self.value'), 3);
  assert.equal(nFrequencyFor(config, 'bert.encoder.layer.1.output.dense'), 7);
  assert.equal(nFrequencyFor(config, 'bert.encoder.layer.1.attention.output.dense'), 10);
  assert.equal(nFrequencyFor(config, 'top'), 5, 'no dot before it: found by the exact key');
});

test('FourierFT refuses what PEFT refuses: too many frequencies, other layer types, two bias adapters', async () => {
  const c = fourierftCase('gpt2-fourierft');
  const base = await AutoModelForCausalLM.fromPretrained(c.baseDir);
  assert.throws(
    () => captureWarnings(() => getPeftModel(base, new FourierFTConfig({ nFrequency: 4000, targetModules: ['c_proj'] }))),
    (e: unknown) => e instanceof AdapterError && /c_proj: n_frequency must be at most in_features · out_features \(32 · 32 = 1024\), got 4000/.test(e.message),
  );
  assert.throws(() => getPeftModel(base, new FourierFTConfig({ nFrequency: 8, targetModules: ['wte'] })), TargetModulesError);
  const peft = captureWarnings(() => getPeftModel(base, new FourierFTConfig({ nFrequency: 8, targetModules: ['c_attn'], bias: 'all' }))).result;
  assert.throws(() => peft.addAdapter('bias', new FourierFTConfig({ nFrequency: 8, targetModules: ['c_attn'], bias: 'fourier_only' })), /bias/);
  assert.deepEqual([...peft.peftConfig.keys()], ['default'], 'refused adapters are not kept');
});

test('FourierFTConfig: PEFT’s defaults and checks', () => {
  const d = new FourierFTConfig().toDict();
  assert.deepEqual(
    [d['n_frequency'], d['scaling'], d['random_loc_seed'], d['fan_in_fan_out'], d['bias'], d['n_frequency_pattern'], d['init_weights'], d['target_modules'], d['exclude_modules']],
    [1000, 150, 777, false, 'none', {}, false, null, null],
  );
  assert.throws(() => new FourierFTConfig({ layersPattern: 'layers' }), (e: unknown) => e instanceof ConfigError && e.key === 'layers_pattern');
  assert.throws(() => new FourierFTConfig({ targetModules: '.*q', layersToTransform: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'layers_to_transform');
  assert.throws(() => FourierFTConfig.fromJSON({ peft_type: 'FOURIERFT', n_frequency: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'n_frequency');
  assert.throws(() => new FourierFTConfig({ nFrequencyPattern: { '(': 3 } }), (e: unknown) => e instanceof ConfigError && e.key === 'n_frequency_pattern');
  assert.throws(() => FourierFTConfig.fromJSON({ peft_type: 'FOURIERFT', random_loc_seed: null }), (e: unknown) => e instanceof ConfigError && e.key === 'random_loc_seed');
  assert.throws(() => FourierFTConfig.fromJSON({ peft_type: 'FOURIERFT', bias: 'lora_only' }), (e: unknown) => e instanceof ConfigError && e.key === 'bias');
});

test('init_weights starts the spectrum at zero: the layer gives the base output', () => {
  const base = new Linear(6, 4);
  const layer = new FourierFTLayer(base, 'default', 5, new FourierFTConfig({ initWeights: true }));
  assert.deepEqual([...layer.fourierftSpectrum.get('default')!.toArray()], [0, 0, 0, 0, 0]);
  const x = fromArray(Array.from({ length: 12 }, (_, i) => i / 10 - 0.5), [2, 6]);
  assertTensorMatches(noGrad(() => layer.forward(x)), noGrad(() => base.forward(x)), { atol: 0, rtol: 0 }, 'zero spectrum');
});

test('FourierFT merges: safeMerge refuses a spectrum that makes the weights non-finite and leaves them alone; a plain merge warns', () => {
  assertNonFiniteMerges(() => {
    const l = new FourierFTLayer(new Linear(4, 2), 'default', 3, new FourierFTConfig(), { key: 'blocks.0.proj' });
    l.fourierftSpectrum.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  });
});
