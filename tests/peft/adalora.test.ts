// AdaLoRA against the real PEFT (tools/fixtures/peft_adalora.py) on the tiny Llama, BERT seq-cls and GPT-2 (Conv1D):
// config defaults and checks, outputs, loss with the orthogonal regularisation, gradients, disabling and merging;
// the rank allocator over several SGD steps (losses, gradients, pruned lora_E, rank_pattern per step); adapters PEFT
// saved (with and without a rank_pattern) loaded here, and adapters saved here against PEFT's files.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad, type Tensor } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/io/index.js';
import { AutoModelForCausalLM, AutoModelForSequenceClassification, type ModelInputs, type ModelOutput, type PreTrainedModel } from '../../src/models/index.js';
import { ConfigError, MergeError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { AdaLoraConfig } from '../../src/peft/tuners/adalora/config.js';
import { SVDLinear } from '../../src/peft/tuners/adalora/layer.js';
import { TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import { fixturePath } from '../helpers/paths.js';
import { assertSameAdapterConfig, captureWarnings } from '../helpers/peft.js';

const DIR = fixturePath('peft', 'adalora');
const TOL = { atol: 1e-4, rtol: 0 };
const GRAD_TOL = { atol: 1e-6, rtol: 1e-4, relativeToMax: true };

interface Case {
  name: string;
  dir: string;
  meta: { base: string; task_type: string; modules: string[]; trainable: string[]; counts: [number, number]; saved: Record<string, number[]>; lr?: number; rank_patterns?: (Record<string, boolean[]> | null)[]; reloaded_ranks?: Record<string, number[]> };
  expected: Map<string, Tensor>;
}

function loadCase(name: string): Case {
  const dir = join(DIR, name);
  return { name, dir, meta: JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case['meta'], expected: loadSafetensors(join(dir, 'expected.safetensors')) };
}

async function baseModel(c: Case): Promise<PreTrainedModel> {
  const Auto = c.meta.task_type === 'SEQ_CLS' ? AutoModelForSequenceClassification : AutoModelForCausalLM;
  const model = await Auto.fromPretrained(fixturePath('models', c.meta.base));
  model.nameOrPath = `tests/fixtures/models/${c.meta.base}`;
  return model;
}

/** The case's config as the fixture script gave it: the saved one, trainable, without the task's head modules. */
function configOf(c: Case): AdaLoraConfig {
  const json = JSON.parse(readFileSync(join(c.dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  return AdaLoraConfig.fromJSON({ ...json, inference_mode: false, rank_pattern: null, modules_to_save: null });
}

/** A PeftModel with the case's config and its starting weights (`param.<name>`). */
async function build(c: Case): Promise<PeftModel> {
  const peft = getPeftModel(await baseModel(c), configOf(c));
  for (const [name, t] of peft.namedParameters()) {
    const value = c.expected.get(`param.${name}`);
    if (value !== undefined) t.data().set(value.data());
  }
  return peft;
}

function inputs(c: Case, labels = true): ModelInputs {
  const get = (k: string): Tensor | undefined => c.expected.get(`input.${k}`);
  return { inputIds: get('input_ids'), attentionMask: get('attention_mask'), tokenTypeIds: get('token_type_ids'), labels: labels ? get('labels') : undefined };
}

function check(out: ModelOutput, c: Case, prefix: string): void {
  assertTensorMatches(out.logits!, c.expected.get(`${prefix}logits`)!, TOL, `${c.name} ${prefix}logits`);
  const loss = c.expected.get(`${prefix}loss`);
  if (loss !== undefined) assertTensorMatches(out.loss!.detach().view([1]), loss, { atol: 1e-5, rtol: 1e-5 }, `${c.name} ${prefix}loss`);
}

type Forward = { forward(x: ModelInputs): ModelOutput };
const run = (model: Forward, x: ModelInputs): ModelOutput => noGrad(() => model.forward(x));
/** The base model PeftModel wraps (a transformers model: forward takes ModelInputs). */
const asForward = (m: unknown): Forward => m as Forward;

interface ConfigReference {
  target_modules_mapping: Record<string, string | string[]>;
  configs: { options: Record<string, unknown>; error?: string; warnings?: string[]; dict?: Record<string, unknown> }[];
}

test('AdaLoraConfig: defaults, checks and warnings as PEFT; default targets per model type', () => {
  const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as ConfigReference;
  assert.deepEqual(TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING, ref.target_modules_mapping);
  for (const { options, error, warnings, dict } of ref.configs) {
    const label = JSON.stringify(options);
    if (error !== undefined) {
      assert.throws(() => AdaLoraConfig.fromJSON(options), ConfigError, label);
      continue;
    }
    const { result, warnings: ours } = captureWarnings(() => AdaLoraConfig.fromJSON(options));
    const d = { ...result.toDict(), peft_version: dict!['peft_version'] } as Record<string, unknown>;
    if (Array.isArray(d['target_modules'])) d['target_modules'] = [...(d['target_modules'] as string[])].sort();
    assert.deepEqual(d, dict, label);
    assert.equal(ours.length, warnings!.length, `${label}: warnings ${JSON.stringify(ours)} vs PEFT's ${JSON.stringify(warnings)}`);
    assert.deepEqual(captureWarnings(() => AdaLoraConfig.fromJSON(result.toDict())).result.toDict(), result.toDict(), `${label}: round trip`);
  }
  assert.throws(() => new AdaLoraConfig({ totalStep: 10, initR: -1 }), /init_r/);
});

for (const name of ['llama-adalora', 'bert-adalora', 'gpt2-adalora']) {
  test(`${name}: layers, trainability, outputs, loss with orthogonal regularisation, gradients, disable, merge`, async () => {
    const c = loadCase(name);
    const peft = await build(c);
    const modules = [...peft.namedModules()].filter(([, m]) => m instanceof SVDLinear).map(([n]) => n);
    assert.deepEqual(modules, c.meta.modules);
    assert.deepEqual(peft.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => n), c.meta.trainable);
    const { trainable, all } = peft.getNbTrainableParameters();
    assert.deepEqual([trainable, all], c.meta.counts);
    peft.eval();
    const x = inputs(c);
    const out = peft.forward(x);
    check(out, c, '');
    assertTensorMatches(run(asForward(peft.getBaseModel()), x).loss!.view([1]), c.expected.get('plain.loss')!, { atol: 1e-5, rtol: 1e-5 }, 'loss without the regularisation');
    out.loss!.backward();
    for (const [n, t] of peft.namedParameters()) {
      if (!t.requiresGrad) continue;
      assertTensorMatches(t.grad!, c.expected.get(`grad.${n}`)!, GRAD_TOL, `grad ${n}`);
    }
    check(peft.disableAdapter(() => run(peft, x)), c, 'disabled.');
    peft.mergeAdapter();
    check(run(peft, x), c, 'merged.');
    peft.unmergeAdapter();
    check(run(peft, x), c, 'unmerged.');
    check(run(asForward(peft.mergeAndUnload()), x), c, 'merge_and_unload.');
  });

  test(`${name}: PEFT's adapter loads with the same outputs; ours saves PEFT's keys, shapes, values and config`, async () => {
    const c = loadCase(name);
    const loaded = await PeftModel.fromPretrained(await baseModel(c), c.dir);
    assertTensorMatches(run(loaded, inputs(c, false)).logits!, c.expected.get('logits')!, TOL, 'loaded logits');
    const peft = await build(c);
    const dir = mkdtempSync(join(tmpdir(), 'adalora-'));
    try {
      peft.savePretrained(dir);
      assertSameAdapterConfig(peft.activePeftConfig, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
      assertSameSaved(loadSafetensors(join(dir, 'adapter_model.safetensors')), c, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Saved tensors against PEFT's adapter_model.safetensors: the same keys and shapes, values within `atol`. */
function assertSameSaved(ours: Map<string, Tensor>, c: Case, atol: number): void {
  const theirs = loadSafetensors(join(c.dir, 'adapter_model.safetensors'));
  assert.deepEqual(Object.fromEntries([...ours].map(([k, t]) => [k, [...t.shape]]).sort()), c.meta.saved);
  for (const [k, t] of theirs) assertTensorMatches(ours.get(k)!, t, { atol, rtol: 0 }, `saved ${k}`);
}

test('safe merge refuses an adapter that makes the weights non-finite and leaves them unchanged', async () => {
  const c = loadCase('gpt2-adalora');
  const peft = await build(c);
  const layer = [...peft.namedModules()].find(([, m]) => m instanceof SVDLinear)![1] as SVDLinear;
  const before = layer.getBaseLayer().parameter('weight')!.toArray();
  layer.loraE.get('default')!.data()[0] = Number.POSITIVE_INFINITY;
  assert.throws(() => layer.merge({ safeMerge: true }), MergeError);
  assert.deepEqual(layer.getBaseLayer().parameter('weight')!.toArray(), before);
  assert.equal(layer.merged, false);
});

for (const name of ['llama-adalora-allocate', 'bert-adalora-allocate']) {
  test(`${name}: SGD steps (eval mode: no dropout) with updateAndAllocate prune lora_E and record rank_pattern as PEFT`, async () => {
    const c = loadCase(name);
    const peft = await build(c);
    peft.eval();
    const x = inputs(c);
    const config = peft.activePeftConfig as AdaLoraConfig;
    const params = peft.namedParameters().filter(([, t]) => t.requiresGrad);
    c.meta.rank_patterns!.forEach((pattern, i) => {
      const step = i + 1;
      const loss = peft.forward(x).loss!;
      assertTensorMatches(loss.detach().view([1]), c.expected.get(`step${step}.loss`)!, { atol: 1e-5, rtol: 1e-5 }, `step ${step} loss`);
      loss.backward();
      for (const [n, t] of params) {
        assertTensorMatches(t.grad!, c.expected.get(`step${step}.grad.${n}`)!, GRAD_TOL, `step ${step} grad ${n}`);
        const w = t.data();
        const g = t.grad!.data();
        for (let j = 0; j < w.length; j++) w[j] = w[j]! - c.meta.lr! * g[j]!;
      }
      peft.updateAndAllocate(step);
      for (const [, t] of params) t.zeroGrad();
      for (const [n, t] of peft.namedParameters()) {
        const expected = c.expected.get(`step${step}.${n}`);
        if (expected === undefined) continue;
        assertTensorMatches(t, expected, { atol: 1e-5, rtol: 0 }, `step ${step} ${n}`);
        assert.deepEqual(Array.from(t.toArray(), (v) => v === 0), Array.from(expected.toArray(), (v) => v === 0), `step ${step} ${n}: pruned entries`);
      }
      assert.deepEqual(config.rankPattern, pattern, `step ${step} rank_pattern`);
    });
    peft.eval();
    check(run(peft, x), c, 'trained.');
    const dir = mkdtempSync(join(tmpdir(), 'adalora-'));
    try {
      peft.savePretrained(dir);
      assertSameAdapterConfig(peft.activePeftConfig, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
      assertSameSaved(loadSafetensors(join(dir, 'adapter_model.safetensors')), c, 1e-4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: PEFT's adapter with a rank_pattern loads resized, with the same outputs`, async () => {
    const c = loadCase(name);
    const loaded = await PeftModel.fromPretrained(await baseModel(c), c.dir);
    const ranks = Object.fromEntries(loaded.namedParameters().filter(([n]) => n.includes('.lora_')).map(([n, t]) => [n, [...t.shape]]));
    assert.deepEqual(ranks, c.meta.reloaded_ranks);
    check(run(loaded, inputs(c, false)), c, 'reloaded.');
  });
}
