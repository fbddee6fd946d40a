// PeftModel against the real PEFT: adapters PEFT saved (tests/fixtures/peft/adapters, made by
// tools/fixtures/peft_adapters.py) load into our models and give PEFT's outputs; saving them again gives PEFT's
// files; a fresh getPeftModel gives PEFT's module tree, counts and saved keys.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadSafetensors } from '../../src/io/safetensors-sharded.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { AdapterError, AdapterWeightsError, TargetModulesError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { MODEL_TYPE_TO_PEFT_MODEL_MAPPING, PeftModel, PeftModelForSequenceClassification } from '../../src/peft/peft-model.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import type { TaskType } from '../../src/peft/utils/peft-types.js';
import { setWarningHandler } from '../../src/peft/utils/warnings.js';
import { assertClose } from '../helpers/assert-close.js';
import { captureWarnings } from '../helpers/peft.js';
import { adapterCases, collectOutputs, loadBaseModel, loadExpected, unsupportedReason, type AdapterCase } from '../helpers/peft-cases.js';
import { withTempDir } from '../helpers/temp-dir.js';

interface StateDictFixture {
  model_keys: Record<string, number[]>;
  /** Keys of tied weights → the key they share a tensor with. */
  aliases: Record<string, string>;
  saved: Record<string, Record<string, number[]>>;
  nb_trainable_parameters: [number, number];
  print_trainable_parameters: string;
}

const cases = adapterCases();
const byName = (name: string): AdapterCase => cases.find((c) => c.name === name)!;
const json = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const sorted = (keys: Iterable<string>): string[] => [...keys].sort();

function assertOutputs(actual: Map<string, Tensor>, expected: Map<string, Tensor>, label: string): void {
  const names = sorted([...expected.keys()].filter((k) => k.includes('.')));
  assert.deepEqual(sorted(actual.keys()), names, `${label}: outputs`);
  for (const k of names) {
    assert.deepEqual([...actual.get(k)!.shape], [...expected.get(k)!.shape], `${label}: ${k} shape`);
    assertClose(actual.get(k)!.toArray(), expected.get(k)!.toArray(), { atol: 1e-4, rtol: 0 }, `${label}: ${k}`);
  }
}

function trainableConfig(dir: string): LoraConfig {
  return LoraConfig.fromJSON({ ...json<Record<string, unknown>>(join(dir, 'adapter_config.json')), inference_mode: false });
}

test('adapter fixture cases are present', () => {
  assert.ok(cases.length >= 10, cases.map((c) => c.name).join(', '));
});

for (const c of cases) {
  const skip = unsupportedReason(c) ?? false;
  const taskType = c.config['task_type'] as TaskType;

  test(`${c.name}: PEFT's adapter gives PEFT's outputs (active, other adapters, mixed batch, disabled, merged)`, { skip }, async () => {
    const peft = await PeftModel.fromPretrained(await loadBaseModel(c), c.dir);
    assert.ok(peft instanceof MODEL_TYPE_TO_PEFT_MODEL_MAPPING[taskType], `${peft.typeName} for ${taskType}`);
    for (const name of c.extraAdapters) await peft.loadAdapter(join(c.dir, name), name);
    assert.equal(peft.getNbTrainableParameters().trainable, 0, 'frozen unless isTrainable');
    assert.equal(peft.training, false);
    const { inputs, tensors } = loadExpected(c);
    const mixed = tensors.has('mixed.logits') ? [c.extraAdapters[0]!, '__base__'] : undefined;
    const { result } = captureWarnings(() => collectOutputs(peft, inputs, c.extraAdapters, mixed));
    assertOutputs(result, tensors, c.name);
    peft.dispose();
  });

  test(`${c.name}: saving the loaded adapter again writes PEFT's files`, { skip }, async () => {
    const peft = await PeftModel.fromPretrained(await loadBaseModel(c), c.dir);
    for (const name of c.extraAdapters) await peft.loadAdapter(join(c.dir, name), name);
    const resaved = json<Record<string, string>>(join(c.dir, 'resaved-configs.json'));
    withTempDir((dir) => {
      captureWarnings(() => peft.savePretrained(dir));
      for (const adapter of ['default', ...c.extraAdapters]) {
        const sub = adapter === 'default' ? '' : adapter;
        assert.deepEqual(readFileSync(join(dir, sub, 'adapter_model.safetensors')), readFileSync(join(c.dir, sub, 'adapter_model.safetensors')), `${adapter}: weights`);
        assert.equal(readFileSync(join(dir, sub, 'adapter_config.json'), 'utf8'), resaved[adapter], `${adapter}: config`);
      }
    });
    peft.dispose();
  });

  test(`${c.name}: getPeftModel gives PEFT's module tree, parameter counts, printed line and saved keys`, { skip }, async () => {
    const fx = json<StateDictFixture>(join(c.dir, 'state-dict.json'));
    const peft = getPeftModel(await loadBaseModel(c), trainableConfig(c.dir));
    for (const name of c.extraAdapters) peft.addAdapter(name, trainableConfig(join(c.dir, name)));
    const shapes = new Map([...peft.stateDict()].map(([k, t]) => [k, [...t.shape]]));
    // A model family may keep a tied weight under fewer names than torch (T5's encoder/decoder embed_tokens).
    const expected = Object.keys(fx.model_keys).filter((k) => shapes.has(k) || !shapes.has(fx.aliases[k] ?? ''));
    assert.deepEqual(sorted(shapes.keys()), sorted(expected));
    for (const [k, s] of shapes) assert.deepEqual(s, fx.model_keys[k], k);
    const { trainable, all } = peft.getNbTrainableParameters();
    assert.deepEqual([trainable, all], fx.nb_trainable_parameters);
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(`${line}\n`);
    try {
      peft.printTrainableParameters();
    } finally {
      console.log = log;
    }
    assert.deepEqual(printed, [fx.print_trainable_parameters]);
    for (const adapter of ['default', ...c.extraAdapters]) {
      const { result } = captureWarnings(() => peft.getAdapterStateDict(adapter));
      assert.deepEqual(
        sorted(result.keys()).map((k) => [k, [...result.get(k)!.shape]]),
        sorted(Object.keys(fx.saved[adapter]!)).map((k) => [k, fx.saved[adapter]![k]]),
        adapter,
      );
    }
    peft.dispose();
  });
}

const bertSeqcls = byName('bert-seqcls');
const gpt2 = byName('gpt2-lora');

test('isTrainable leaves the adapter and its head copy trainable', async () => {
  const fx = json<StateDictFixture>(join(bertSeqcls.dir, 'state-dict.json'));
  const peft = await PeftModel.fromPretrained(await loadBaseModel(bertSeqcls), bertSeqcls.dir, { isTrainable: true });
  assert.ok(peft instanceof PeftModelForSequenceClassification);
  assert.equal(peft.getNbTrainableParameters().trainable, fx.nb_trainable_parameters[0]);
  assert.equal(peft.peftConfig.get('default')!.inferenceMode, false);
  peft.dispose();
});

test('adapter_model.bin loads when there is no safetensors file', async () => {
  const peft = await PeftModel.fromPretrained(await loadBaseModel(gpt2), `${gpt2.dir}-bin`);
  const { inputs, tensors } = loadExpected(gpt2);
  const out = peft.forward(inputs).logits!;
  assertClose(out.toArray(), tensors.get('active.logits')!.toArray(), { atol: 1e-4, rtol: 0 }, 'active.logits');
  peft.dispose();
});

test('an adapter for another architecture: its targets or its keys name modules the model lacks', async () => {
  await assert.rejects(PeftModel.fromPretrained(await loadBaseModel(bertSeqcls), gpt2.dir), (e: unknown) => e instanceof TargetModulesError && /c_attn/.test(e.message));
  const config = new LoraConfig({ targetModules: ['query', 'value'], taskType: 'SEQ_CLS' });
  await assert.rejects(
    PeftModel.fromPretrained(await loadBaseModel(bertSeqcls), gpt2.dir, { config }),
    (e: unknown) =>
      e instanceof AdapterWeightsError &&
      e.file!.endsWith(join('gpt2-lora', 'adapter_model.safetensors')) &&
      e.key === 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight' &&
      /BertForSequenceClassification does not have/.test(e.message) &&
      /another architecture/.test(e.message),
  );
});

test('a rank that does not fit the weights names the key and both shapes', async () => {
  await withTempDirAsync(async (dir) => {
    cpSync(bertSeqcls.dir, dir, { recursive: true });
    const config = json<Record<string, unknown>>(join(dir, 'adapter_config.json'));
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, r: 8 }));
    await assert.rejects(
      PeftModel.fromPretrained(await loadBaseModel(bertSeqcls), dir),
      (e: unknown) => e instanceof AdapterWeightsError && /lora_A\.default\.weight/.test(e.key!) && /checkpoint \[4, 32\] vs model \[8, 32\]/.test(e.message),
    );
  });
});

test('adapter keys missing from the file are warned about', async () => {
  await withTempDirAsync(async (dir) => {
    copyFileSync(join(bertSeqcls.dir, 'adapter_config.json'), join(dir, 'adapter_config.json'));
    const weights = loadSafetensors(join(bertSeqcls.dir, 'adapter_model.safetensors'));
    const dropped = 'base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight';
    weights.delete(dropped);
    saveSafetensors(join(dir, 'adapter_model.safetensors'), Object.fromEntries(weights), { format: 'pt' });
    const base = await loadBaseModel(bertSeqcls);
    const warnings: string[] = [];
    const previous = setWarningHandler((m) => warnings.push(m));
    try {
      await PeftModel.fromPretrained(base, dir);
    } finally {
      setWarningHandler(previous);
    }
    assert.deepEqual(warnings, [`Found missing adapter keys while loading the checkpoint: ["base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.default.weight"]`]);
  });
});

test('savePretrained: other adapters go to subfolders, unknown adapters are refused', async () => {
  const peft = getPeftModel(await loadBaseModel(bertSeqcls), new LoraConfig({ r: 2, taskType: 'SEQ_CLS' }));
  peft.addAdapter('second', new LoraConfig({ r: 3, taskType: 'SEQ_CLS', targetModules: ['key'] }));
  assert.deepEqual(peft.peftConfig.get('second')!.modulesToSave, ['classifier', 'score']);
  withTempDir((dir) => {
    assert.throws(() => peft.savePretrained(dir, { selectedAdapters: ['nope'] }), AdapterError);
    peft.savePretrained(dir);
    for (const f of ['adapter_config.json', 'adapter_model.safetensors', 'second/adapter_config.json', 'second/adapter_model.safetensors']) assert.ok(existsSync(join(dir, f)), f);
    const second = loadSafetensors(join(dir, 'second', 'adapter_model.safetensors'));
    assert.ok([...second.keys()].every((k) => !k.includes('.second') && (k.includes('.key.lora_') || k.startsWith('base_model.model.classifier.'))), [...second.keys()].join(', '));
    const config = json<Record<string, unknown>>(join(dir, 'second', 'adapter_config.json'));
    assert.equal(config['base_model_name_or_path'], 'tests/fixtures/models/bert-seqcls');
    assert.equal(config['r'], 3);
  });
  peft.dispose();
});

test('savePretrained: a save that fails part way leaves the previous adapter whole and no staging files', async () => {
  const peft = getPeftModel(await loadBaseModel(bertSeqcls), new LoraConfig({ r: 2, taskType: 'SEQ_CLS', initLoraWeights: false }));
  withTempDir((dir) => {
    peft.savePretrained(dir);
    const before = ['adapter_model.safetensors', 'adapter_config.json'].map((f) => readFileSync(join(dir, f)));
    const [, param] = peft.namedParameters().find(([name]) => name.includes('lora_B'))!;
    param.data().fill(0.5);
    const config = peft.peftConfig.get('default')!;
    // The config is written after the weights.
    config.toJsonString = () => {
      throw new Error('interrupted');
    };
    assert.throws(() => peft.savePretrained(dir), /interrupted/);
    assert.deepEqual(['adapter_model.safetensors', 'adapter_config.json'].map((f) => readFileSync(join(dir, f))), before);
    assert.deepEqual(readdirSync(dir).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
  });
  peft.dispose();
});

async function withTempDirAsync(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-test-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
