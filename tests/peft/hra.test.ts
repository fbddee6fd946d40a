// HRA against the real PEFT (tools/fixtures/peft_hra.py): the orthogonal matrix of one set of reflection vectors
// (chain and Gram–Schmidt, forward and reversed, odd and even r) and its gradients; on the tiny Llama (r 4 on the
// default targets with a second Gram–Schmidt adapter; Gram–Schmidt with odd r on every linear layer), BERT
// (Gram–Schmidt, bias "hra_only") and T5 (random init, one block): targets, trainability, saved keys and config,
// outputs, gradients, disabling, merging, unmerging, PEFT's folders loaded and saved back; refusals and config checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromArray, mul, noGrad, sum } from '../../src/engine/index.js';
import { AutoModelForCausalLM, type ModelInputs, type ModelOutput } from '../../src/models/index.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterError, ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { HRAConfig } from '../../src/peft/tuners/hra/config.js';
import { HRALayer } from '../../src/peft/tuners/hra/layer.js';
import { applyReflections } from '../../src/peft/tuners/hra/reflections.js';
import { TRANSFORMERS_MODELS_TO_HRA_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
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
  perturbedCase,
  promptIa3Case,
} from '../helpers/prompt-ia3.js';

const ROOT = fixturePath('peft', 'hra');
const CASES = ['llama-hra', 'llama-hra-gs-odd', 'bert-hra-gs', 't5-hra'];

interface Reflected {
  matrix: number[];
  grad: number[];
}

interface Reference {
  hra_target_modules_mapping: unknown;
  gpt2_refusal: string;
  reflections: Record<string, Record<string, Reflected> & { u: number[]; probe: number[] }>;
}

function run(peft: PeftModel, x: ModelInputs): ModelOutput {
  return noGrad(() => peft.forward(x));
}

function eye(n: number): number[] {
  return Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
}

test('the default HRA targets per model type are PEFT’s', () => {
  assert.deepEqual(TRANSFORMERS_MODELS_TO_HRA_TARGET_MODULES_MAPPING, loadReference<Reference>(ROOT).hra_target_modules_mapping);
});

test('reflections: the orthogonal matrix of r = 3 and 4 vectors (chain and Gram–Schmidt, both ways) and its gradients, as PEFT', () => {
  for (const [name, ref] of Object.entries(loadReference<Reference>(ROOT).reflections)) {
    const r = ref.u.length / 6;
    for (const gramSchmidt of [false, true]) {
      for (const transposed of [false, true]) {
        const key = `${gramSchmidt ? 'gs' : 'chain'}_${transposed ? 'reverse' : 'forward'}`;
        const u = fromArray(ref.u, [6, r]);
        u.requiresGrad = true;
        const h = applyReflections(fromArray(eye(6), [6, 6]), u, { gramSchmidt, transposed });
        assertTensorMatches(h, fromArray(ref[key]!.matrix, [6, 6]), { atol: 1e-6, rtol: 0 }, `${name} ${key} matrix`);
        sum(mul(h, fromArray(ref.probe, [6, 6]))).backward();
        assertTensorMatches(u.grad!, fromArray(ref[key]!.grad, [6, r]), { atol: 1e-5, rtol: 0 }, `${name} ${key} gradient`);
      }
    }
  }
});

for (const name of CASES) {
  test(`${name}: adapted modules, trainability, counts, saved keys and config as PEFT`, async () => {
    const c = promptIa3Case(name, ROOT);
    const { result: peft, warnings } = await captureWarningsAsync(() => buildFromSavedConfig(c));
    assertSetUpAsPeft(peft, c, HRALayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
    const odd = warnings.filter((w) => /symmetric initialization can not be performed when r is odd \(r=5\)/.test(w));
    assert.equal(odd.length, name === 'llama-hra-gs-odd' ? (c.meta['modules'] as string[]).length : 0, 'the warnings about an odd r');
  });

  test(`${name}: outputs and gradients; disabled, merged (safe) and unmerged outputs; merge_and_unload`, async () => {
    const { expected, peft } = await perturbedCase(name, ROOT);
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true, unmergedAtol: 1e-5 });
    checkMergeAndUnload(peft, expected, HRALayer, name);
  });

  test(`${name}: PEFT's saved adapter loads, saves back byte for byte and gives PEFT's outputs`, async () => {
    await checkPeftFolderRoundTrip(promptIa3Case(name, ROOT));
  });
}

test('llama-hra: a second adapter (Gram–Schmidt, odd r) multiplies after the first, merged in order; deleting it', async () => {
  const c = promptIa3Case('llama-hra', ROOT);
  const peft = await buildFromSavedConfig(c);
  captureWarnings(() => peft.addAdapter('other', new HRAConfig({ taskType: 'CAUSAL_LM', r: 3, applyGS: true, targetModules: ['q_proj', 'k_proj'] })));
  checkSecondAdapter(peft, loadExpected(c));
});

test('init_weights true with an even r (no Gram–Schmidt) leaves the outputs unchanged: paired reflections cancel; an odd r or init_weights false does not', async () => {
  const c = promptIa3Case('llama-hra', ROOT);
  const expected = loadExpected(c);
  const x = inputs(expected);
  const base = () => AutoModelForCausalLM.fromPretrained(c.baseDir);
  check(run(getPeftModel(await base(), new HRAConfig({ taskType: 'CAUSAL_LM', r: 4 })), x), expected, 'disabled.', 'init_weights true');
  const disabled = expected.get('disabled.logits')!;
  for (const config of [new HRAConfig({ taskType: 'CAUSAL_LM', r: 4, initWeights: false }), new HRAConfig({ taskType: 'CAUSAL_LM', r: 3 })]) {
    const model = await base();
    const logits = run(captureWarnings(() => getPeftModel(model, config)).result, x).logits!;
    assert.ok(logits.toArray().some((v, i) => Math.abs(v - disabled.data()[i]!) > 1e-3), `r ${config.r}, init_weights ${config.initWeights}`);
  }
});

test('HRA refuses GPT-2’s Conv1D as PEFT does; only one adapter may train biases', async () => {
  const ref = loadReference<Reference>(ROOT);
  assert.match(ref.gpt2_refusal, /Conv1D.*is not supported/);
  const gpt2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  assert.throws(() => getPeftModel(gpt2, new HRAConfig({ taskType: 'CAUSAL_LM', r: 2 })), (e: unknown) => e instanceof TargetModulesError && /Conv1D; HRA supports Linear/.test(e.message));
  const { peft } = await perturbedCase('bert-hra-gs', ROOT);
  assert.throws(() => peft.addAdapter('other', new HRAConfig({ taskType: 'SEQ_CLS', r: 2, bias: 'all', targetModules: ['query'] })), AdapterError);
});

test('HRAConfig: PEFT’s defaults and checks', () => {
  const d = new HRAConfig().toDict();
  assert.deepEqual([d['r'], d['apply_GS'], d['init_weights'], d['bias'], d['target_modules'], d['exclude_modules'], d['layers_to_transform'], d['layers_pattern'], d['modules_to_save']], [8, false, true, 'none', null, null, null, null, null]);
  assert.equal(HRAConfig.fromJSON({ peft_type: 'HRA', apply_GS: true }).applyGS, true);
  assert.equal(new HRAConfig({ applyGS: true }).toDict()['apply_GS'], true);
  const key = (k: string) => (e: unknown) => e instanceof ConfigError && e.key === k;
  assert.throws(() => new HRAConfig({ r: 0 }), key('r'));
  assert.throws(() => new HRAConfig({ r: 2.5 }), key('r'));
  assert.throws(() => new HRAConfig({ layersPattern: 'layers' }), key('layers_pattern'));
  assert.throws(() => new HRAConfig({ targetModules: '.*q_proj', layersToTransform: [0] }), key('layers_to_transform'));
  assert.throws(() => new HRAConfig({ targetModules: '.*q_proj', layersPattern: 'layers', layersToTransform: [0] }), key('layers_to_transform'));
  assert.throws(() => HRAConfig.fromJSON({ peft_type: 'HRA', bias: 'lora_only' }), key('bias'));
});

test('HRA merges: safeMerge refuses vectors that make the merged weights non-finite and leaves them alone; a plain merge warns', () => {
  assertNonFiniteMerges(() => {
    const l = new HRALayer(new Linear(4, 3), 'default', new HRAConfig({ r: 2 }), { key: 'blocks.0.proj' });
    l.hraU.get('default')!.data()[1] = Number.POSITIVE_INFINITY;
    return l;
  });
});
