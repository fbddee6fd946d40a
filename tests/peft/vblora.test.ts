// VB-LoRA against the real PEFT on the tiny Llama, BERT (SEQ_CLS, bias "vblora_only", save_only_topk_weights with int16
// indices) and GPT-2 (Conv1D, save_only_topk_weights with uint8 indices, a second adapter) of
// tools/fixtures/peft_vblora.py: targets, trainability, saved keys, outputs, gradients of the bank and the logits,
// disabling, merging, PEFT's folders loaded (logits or topk form) and saved back; and the errors of PEFT's rules.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import { fromArray } from '../../src/engine/ops/creation.js';
import { SafetensorsFile } from '../../src/io/index.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { ParameterDict } from '../../src/nn/containers.js';
import { Linear } from '../../src/nn/linear.js';
import { AdapterError, ConfigError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { VBLoRAConfig } from '../../src/peft/tuners/vblora/config.js';
import { composeFromBank, VBLoRALayer } from '../../src/peft/tuners/vblora/layer.js';
import type { VBLoRAModel } from '../../src/peft/tuners/vblora/model.js';
import { torchTopkIndices } from '../../src/peft/tuners/vblora/torch-topk.js';
import { TRANSFORMERS_MODELS_TO_VBLORA_TARGET_MODULES_MAPPING } from '../../src/peft/utils/constants.js';
import { fixturePath } from '../helpers/paths.js';
import { assertNonFiniteMerges, assertSameAdapterConfig, captureWarnings, captureWarningsAsync } from '../helpers/peft.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import {
  assertSavesBack,
  assertSetUpAsPeft,
  autoModelFor,
  buildFromSavedConfig,
  checkFixtureForwardAndMerges,
  checkFixtureOutputs as check,
  checkMergeAndUnload,
  fixtureInputs as inputs,
  loadExpected,
  loadReference,
  promptIa3Case,
  type PromptIa3Case,
  setFixtureParams,
} from '../helpers/prompt-ia3.js';

const VBLORA_DIR = fixturePath('peft', 'vblora');
const CASES = ['llama-vblora', 'bert-vblora-topk', 'gpt2-vblora-topk'];

function vbloraCase(name: string): PromptIa3Case {
  return promptIa3Case(name, VBLORA_DIR);
}

async function loadFolder(c: PromptIa3Case, dir = c.dir, isTrainable = false): Promise<PeftModel> {
  const base = await autoModelFor(c).fromPretrained(c.baseDir);
  return (await captureWarningsAsync(() => PeftModel.fromPretrained(base, dir, { isTrainable }))).result;
}

test('the default VB-LoRA targets per model type are PEFT’s', () => {
  const ref = loadReference<{ vblora_target_modules_mapping: unknown }>(VBLORA_DIR);
  assert.deepEqual(TRANSFORMERS_MODELS_TO_VBLORA_TARGET_MODULES_MAPPING, ref.vblora_target_modules_mapping);
});

for (const name of CASES) {
  test(`${name}: adapted modules, trainability (the bank included), counts, saved keys and config as PEFT`, async () => {
    const c = vbloraCase(name);
    const peft = await buildFromSavedConfig(c);
    assertSetUpAsPeft(peft, c, VBLoRALayer);
    assertSameAdapterConfig(peft.peftConfig.get('default')!, readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), name);
  });

  test(`${name}: outputs, gradients of the bank and the logits; disabled, merged and unmerged outputs`, async () => {
    const c = vbloraCase(name);
    const expected = loadExpected(c);
    const peft = await buildFromSavedConfig(c);
    setFixtureParams(peft, expected);
    peft.eval();
    checkFixtureForwardAndMerges(peft, expected, name, { safeMerge: true });
    checkMergeAndUnload(peft, expected, VBLoRALayer, name);
  });

  test(`${name}: PEFT's saved adapter loads and gives PEFT's outputs`, async () => {
    const c = vbloraCase(name);
    const expected = loadExpected(c);
    const peft = await loadFolder(c);
    check(noGrad(() => peft.forward(inputs(expected))), expected, '', `${name} loaded`);
    if (name === 'llama-vblora') assertSavesBack(peft, c);
  });
}

test('save_only_topk_weights: PEFT’s folders save back with PEFT’s keys, index types and values; they cannot be trained', async () => {
  for (const name of ['bert-vblora-topk', 'gpt2-vblora-topk']) {
    const c = vbloraCase(name);
    const peft = await loadFolder(c);
    const dir = mkdtempSync(join(tmpdir(), 'peftjs-vblora-'));
    try {
      peft.savePretrained(dir);
      const ours = SafetensorsFile.open(join(dir, 'adapter_model.safetensors'));
      const theirs = SafetensorsFile.open(join(c.dir, 'adapter_model.safetensors'));
      try {
        assert.deepEqual(ours.keys().sort(), theirs.keys().sort(), name);
        for (const k of theirs.keys()) {
          assert.deepEqual(ours.info(k).dtype, theirs.info(k).dtype, `${name} ${k} dtype`);
          if (k.endsWith('_topk_indices')) assert.deepEqual(ours.readRaw(k).bytes, theirs.readRaw(k).bytes, `${name} ${k}`);
          else assertTensorMatches(ours.readTensor(k), theirs.readTensor(k), { atol: 1e-6, rtol: 0 }, `${name} ${k}`);
        }
      } finally {
        ours.close();
        theirs.close();
      }
      const theirsConfig = JSON.parse(readFileSync(join(c.dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      if (c.taskType === 'SEQ_CLS') theirsConfig['modules_to_save'] = ['classifier', 'score', 'classifier', 'score'];
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')), theirsConfig);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const trainable = await loadFolder(c, c.dir, true);
    trainable.train();
    const expected = loadExpected(c);
    assert.throws(() => trainable.forward(inputs(expected)), (e: unknown) => e instanceof AdapterError && /save_only_topk_weights/.test(e.message));
  }
});

test('gpt2-vblora-topk: a second adapter has its own bank; both active add up; deleting it drops its bank', async () => {
  const c = vbloraCase('gpt2-vblora-topk');
  const expected = loadExpected(c);
  const peft = await buildFromSavedConfig(c);
  captureWarnings(() => peft.addAdapter('other', new VBLoRAConfig({ taskType: 'CAUSAL_LM', r: 2, numVectors: 8, vectorLength: 16, topk: 3, targetModules: ['c_attn'] })));
  setFixtureParams(peft, expected);
  peft.eval();
  const tuner = peft.baseModel as VBLoRAModel;
  assert.deepEqual(tuner.vectorBank.keys(), ['default', 'other']);
  assert.deepEqual(tuner.vectorBank.get('other')!.shape, [8, 16]);
  assert.ok(peft.namedParameters().filter(([n]) => n.endsWith('.other')).every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  tuner.setAdapter(['default', 'other']);
  check(noGrad(() => peft.forward(inputs(expected))), expected, 'both.', 'both');
  peft.setAdapter('default');
  peft.deleteAdapter('other');
  assert.deepEqual(tuner.vectorBank.keys(), ['default']);
  check(noGrad(() => peft.forward(inputs(expected))), expected, '', 'after deleting other');
});

test('disabling freezes the bank with the logits; enabling makes them trainable again', async () => {
  const peft = await buildFromSavedConfig(vbloraCase('llama-vblora'));
  const bank = (peft.baseModel as VBLoRAModel).vectorBank.get('default')!;
  assert.equal(bank.requiresGrad, true);
  captureWarnings(() => peft.disableAdapter(() => assert.equal(bank.requiresGrad, false)));
  assert.equal(bank.requiresGrad, true);
});

test('topk picks the positions CPU torch.topk picks in rows full of ties (and NaN), for both of its algorithms', () => {
  const cases = loadReference<{ topk_ties: { values: (number | null)[]; k: number; indices: number[] }[] }>(VBLORA_DIR).topk_ties;
  for (const { values, k, indices } of cases) {
    const row = values.map((v) => v ?? Number.NaN);
    assert.deepEqual([...torchTopkIndices(row, 1, row.length, k)], indices, `n=${row.length} k=${k} values ${JSON.stringify(values)}`);
  }
});

test('composeFromBank: softmax-weighted sum of the topk rows, ties resolved as torch resolves them', () => {
  const bank = fromArray([1, 0, 0, 1, 2, 2, -1, 3], [4, 2]);
  const logits = fromArray([0, Math.log(3), 5, 0, 1, 1, 1, 1], [2, 4]);
  const out = composeFromBank(logits, bank, 2);
  // row 0: indices 2 and 1 with weights e^5 / (e^5 + 3) and 3 / (e^5 + 3); row 1 (all equal): torch takes 2 and 3, half each.
  const w = Math.exp(5) / (Math.exp(5) + 3);
  assertTensorMatches(out, fromArray([2 * w, 2 * w + (1 - w), 0.5, 2.5], [2, 2]), { atol: 1e-6, rtol: 0 }, 'composed');
});

test('VB-LoRA refuses what PEFT refuses: targets vector_length does not divide, other layer types, two bias adapters', async () => {
  const c = vbloraCase('gpt2-vblora-topk');
  const base = await AutoModelForCausalLM.fromPretrained(c.baseDir);
  assert.throws(() => captureWarnings(() => getPeftModel(base, new VBLoRAConfig({ vectorLength: 7, numVectors: 8, targetModules: ['c_attn'] }))), (e: unknown) => e instanceof AdapterError && /c_attn: in_features 32 must be divisible by vector_length 7/.test(e.message));
  assert.throws(() => getPeftModel(base, new VBLoRAConfig({ numVectors: 8, vectorLength: 8, targetModules: ['wte'] })), TargetModulesError);
  const peft = captureWarnings(() => getPeftModel(base, new VBLoRAConfig({ numVectors: 8, vectorLength: 8, targetModules: ['c_attn'], bias: 'all' }))).result;
  assert.throws(() => peft.addAdapter('bias', new VBLoRAConfig({ numVectors: 8, vectorLength: 8, targetModules: ['c_attn'], bias: 'vblora_only' })), /bias/);
  assert.throws(() => captureWarnings(() => peft.addAdapter('odd', new VBLoRAConfig({ numVectors: 8, vectorLength: 5, targetModules: ['c_attn'] }))), AdapterError);
  assert.deepEqual([...peft.peftConfig.keys()], ['default'], 'refused adapters are not kept');
  assert.deepEqual((peft.baseModel as VBLoRAModel).vectorBank.keys(), ['default'], 'nor their banks');
});

test('VBLoRAConfig: PEFT’s defaults and checks', () => {
  const d = new VBLoRAConfig().toDict();
  assert.deepEqual(
    [d['r'], d['num_vectors'], d['vector_length'], d['topk'], d['save_only_topk_weights'], d['vblora_dropout'], d['bias'], d['init_vector_bank_bound'], d['init_logits_std'], d['fan_in_fan_out']],
    [4, 256, 256, 2, false, 0, 'none', 0.02, 0.1, false],
  );
  assert.throws(() => new VBLoRAConfig({ layersPattern: 'layers' }), (e: unknown) => e instanceof ConfigError && e.key === 'layers_pattern');
  assert.throws(() => new VBLoRAConfig({ vbloraDropout: 1.5 }), (e: unknown) => e instanceof ConfigError && e.key === 'vblora_dropout');
  assert.throws(() => new VBLoRAConfig({ r: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'r');
  assert.throws(() => new VBLoRAConfig({ topk: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'topk');
  assert.throws(() => new VBLoRAConfig({ topk: 9, numVectors: 8 }), (e: unknown) => e instanceof ConfigError && e.key === 'topk');
  assert.throws(() => VBLoRAConfig.fromJSON({ peft_type: 'VBLORA', bias: 'lora_only' }), (e: unknown) => e instanceof ConfigError && e.key === 'bias');
  assert.throws(() => VBLoRAConfig.fromJSON({ peft_type: 'VBLORA', exclude_modules: '(' }), (e: unknown) => e instanceof ConfigError && e.key === 'exclude_modules');
});

test('VB-LoRA merges: safeMerge refuses a bank that makes the weights non-finite and leaves them alone; a plain merge warns', () => {
  const layer = (): VBLoRALayer => {
    const bank = new ParameterDict();
    bank.set('default', fromArray([1, 2, 3, 4, 5, 6, Number.POSITIVE_INFINITY, 8], [4, 2]));
    const l = new VBLoRALayer(new Linear(4, 2), 'default', bank, new VBLoRAConfig({ r: 2, numVectors: 4, vectorLength: 2, topk: 4 }), { key: 'blocks.0.proj' });
    return l;
  };
  assertNonFiniteMerges(layer);
});
