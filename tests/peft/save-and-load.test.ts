// Adapter state-dict keys against what the real PEFT does with the same models (tests/fixtures/peft/adapters/*/
// state-dict.json, from tools/fixtures/peft_adapters.py): keys saved per adapter, the model key each saved key
// loads into, and the keys PEFT's non-strict load skips.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { resolveAdapterFolder } from '../../src/io/adapter-folder.js';
import { AdapterWeightsError } from '../../src/peft/errors.js';
import {
  selectAdapterStateDict,
  loadPeftWeights,
  remapAdapterStateDictForLoad,
  removeAdapterNameFromKey,
  type PeftStateLayout,
  type StateDictConfig,
} from '../../src/peft/utils/save-and-load.js';
import { captureWarnings } from '../helpers/peft.js';
import { fixturePath } from '../helpers/paths.js';

interface StateDictFixture {
  model_keys: Record<string, number[]>;
  tuner_layers: string[];
  aux: { name: string; kind: 'modules_to_save' | 'trainable_tokens'; adapters: string[]; tied?: boolean }[];
  embeddings: { input: string | null; output: string | null };
  configs: Record<string, { bias: StateDictConfig['bias']; use_dora: boolean; target_modules: string | string[] | null; trainable_token_indices: number[] | null }>;
  saved: Record<string, Record<string, number[]>>;
  load_map: Record<string, Record<string, string>>;
  unexpected: Record<string, string[]>;
}

const ADAPTERS = fixturePath('peft', 'adapters');
const cases = readdirSync(ADAPTERS).filter((c) => !c.endsWith('-bin'));

function loadCase(name: string): StateDictFixture {
  return JSON.parse(readFileSync(fixturePath('peft', 'adapters', name, 'state-dict.json'), 'utf8')) as StateDictFixture;
}

function moduleNamesOf(keys: Iterable<string>): Set<string> {
  const names = new Set<string>();
  for (const k of keys) {
    const parts = k.split('.');
    for (let i = 1; i < parts.length; i++) names.add(parts.slice(0, i).join('.'));
  }
  return names;
}

function layoutOf(fx: StateDictFixture): PeftStateLayout {
  return {
    tunerLayers: fx.tuner_layers,
    auxModules: fx.aux,
    inputEmbedding: fx.embeddings.input,
    outputEmbedding: fx.embeddings.output,
    moduleNames: moduleNamesOf(Object.keys(fx.model_keys)),
  };
}

function configOf(c: StateDictFixture['configs'][string]): StateDictConfig {
  const t = c.target_modules;
  return { bias: c.bias, useDora: c.use_dora, targetModules: t === null || typeof t === 'string' ? t : new Set(t), trainableTokenIndices: c.trainable_token_indices };
}

const sorted = <T>(m: Map<string, T>): [string, T][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

test('fixture cases are present', () => {
  assert.ok(cases.length >= 10, `found ${cases.join(', ')}`);
});

for (const name of cases) {
  const fx = loadCase(name);
  const layout = layoutOf(fx);
  const adapters = Object.keys(fx.saved);
  const modelState = new Map(Object.entries(fx.model_keys));

  for (const adapter of adapters) {
    test(`${name} [${adapter}]: saved keys and shapes as PEFT's get_peft_model_state_dict`, () => {
      const { result } = captureWarnings(() => selectAdapterStateDict(layout, modelState, configOf(fx.configs[adapter]!), adapter, { adapterNames: adapters }));
      assert.deepEqual(sorted(result), sorted(new Map(Object.entries(fx.saved[adapter]!))));
    });

    test(`${name} [${adapter}]: each saved key loads into the model key PEFT's set_peft_model_state_dict uses`, () => {
      const checkpoint = new Map(Object.keys(fx.saved[adapter]!).map((k) => [k, k]));
      const r = remapAdapterStateDictForLoad(layout, Object.keys(fx.model_keys), checkpoint, adapter);
      const loadedFrom = new Map([...r.load].map(([modelKey, ckptKey]) => [ckptKey, modelKey]));
      assert.deepEqual(sorted(loadedFrom), sorted(new Map(Object.entries(fx.load_map[adapter]!))));
      assert.deepEqual(r.skipped.sort(), fx.unexpected[adapter]);
      assert.deepEqual(r.unknown, []);
      assert.deepEqual(r.missing, []);
    });
  }
}

test('the embedding case saves the base weights of the targeted embedding and LM head, with a warning', () => {
  const fx = loadCase('llama-embed');
  const { result, warnings } = captureWarnings(() =>
    selectAdapterStateDict(layoutOf(fx), new Map(Object.entries(fx.model_keys)), configOf(fx.configs['default']!), 'default', { adapterNames: ['default'] }),
  );
  assert.ok(result.has('base_model.model.model.embed_tokens.base_layer.weight'));
  assert.ok(result.has('base_model.model.lm_head.base_layer.weight'));
  assert.deepEqual(warnings, ['Setting `save_embedding_layers` to `True` as embedding layers found in `target_modules`.']);
  const without = selectAdapterStateDict(layoutOf(fx), new Map(Object.entries(fx.model_keys)), configOf(fx.configs['default']!), 'default', {
    adapterNames: ['default'],
    saveEmbeddingLayers: false,
  });
  assert.equal([...without.keys()].filter((k) => k.includes('base_layer.weight')).length, 0);
});

test('a resized vocabulary saves the untargeted embedding weights under their own names', () => {
  const fx = loadCase('qwen2-lora');
  const { result } = captureWarnings(() =>
    selectAdapterStateDict(layoutOf(fx), new Map(Object.entries(fx.model_keys)), configOf(fx.configs['default']!), 'default', {
      adapterNames: ['default'],
      vocabResized: true,
    }),
  );
  assert.deepEqual(result.get('base_model.model.model.embed_tokens.weight'), [96, 32]);
  assert.deepEqual(result.get('base_model.model.lm_head.weight'), [96, 32]);
});

test('removeAdapterNameFromKey: module entries, parameter entries, names inside the path left alone', () => {
  assert.equal(removeAdapterNameFromKey('m.q_proj.lora_A.default.weight', 'default'), 'm.q_proj.lora_A.weight');
  assert.equal(removeAdapterNameFromKey('m.embed.lora_embedding_A.default', 'default'), 'm.embed.lora_embedding_A');
  assert.equal(removeAdapterNameFromKey('default.q.lora_A.default.weight', 'default'), 'default.q.lora_A.weight');
  assert.equal(removeAdapterNameFromKey('m.classifier.weight', 'default'), 'm.classifier.weight');
  assert.equal(removeAdapterNameFromKey('weight', 'default'), 'weight');
});

test('an adapter named like a module path segment keeps the other adapter\'s tensors (huggingface/peft#3584)', () => {
  const layout: PeftStateLayout = {
    tunerLayers: ['base_model.model.mlp.up', 'base_model.model.attn.q'],
    auxModules: [],
    inputEmbedding: null,
    outputEmbedding: null,
    moduleNames: new Set(['base_model', 'base_model.model', 'base_model.model.mlp', 'base_model.model.mlp.up', 'base_model.model.attn', 'base_model.model.attn.q']),
  };
  const state = new Map(
    [
      'base_model.model.mlp.up.base_layer.weight',
      'base_model.model.mlp.up.lora_A.default.weight',
      'base_model.model.mlp.up.lora_B.default.weight',
      'base_model.model.attn.q.base_layer.weight',
      'base_model.model.attn.q.lora_A.mlp.weight',
      'base_model.model.attn.q.lora_B.mlp.weight',
    ].map((k) => [k, k]),
  );
  const config: StateDictConfig = { bias: 'none', useDora: false, targetModules: new Set(['up', 'q']), trainableTokenIndices: null };
  const def = selectAdapterStateDict(layout, state, config, 'default', { adapterNames: ['default', 'mlp'] });
  assert.deepEqual([...def.keys()], ['base_model.model.mlp.up.lora_A.weight', 'base_model.model.mlp.up.lora_B.weight']);
  const mlp = selectAdapterStateDict(layout, state, config, 'mlp', { adapterNames: ['default', 'mlp'] });
  assert.deepEqual([...mlp.keys()], ['base_model.model.attn.q.lora_A.weight', 'base_model.model.attn.q.lora_B.weight']);
});

test('loading into a model without the PeftModel prefix (adapters injected directly) strips base_model.model.', () => {
  const fx = loadCase('bert-seqcls');
  const strip = (k: string): string => k.replace(/^base_model\.model\./, '');
  const layout: PeftStateLayout = {
    tunerLayers: fx.tuner_layers.map(strip),
    auxModules: fx.aux.map((a) => ({ ...a, name: strip(a.name) })),
    inputEmbedding: null,
    outputEmbedding: null,
    moduleNames: moduleNamesOf(Object.keys(fx.model_keys).map(strip)),
  };
  const checkpoint = new Map(Object.keys(fx.saved['default']!).map((k) => [k, k]));
  const r = remapAdapterStateDictForLoad(layout, Object.keys(fx.model_keys).map(strip), checkpoint, 'default');
  const expected = Object.entries(fx.load_map['default']!).map(([ckpt, model]) => [strip(model), ckpt]);
  assert.deepEqual(sorted(r.load), expected.sort(([a], [b]) => (a! < b! ? -1 : 1)));
  assert.deepEqual([r.unknown, r.missing], [[], []]);
});

test('an adapter made for another architecture: its keys name modules the model lacks', () => {
  const gpt2 = loadCase('gpt2-lora');
  const llama = loadCase('llama-dora');
  const checkpoint = new Map(Object.keys(gpt2.saved['default']!).map((k) => [k, k]));
  const r = remapAdapterStateDictForLoad(layoutOf(llama), Object.keys(llama.model_keys), checkpoint, 'default');
  assert.equal(r.load.size, 0);
  assert.deepEqual(r.unknown.sort(), Object.keys(gpt2.saved['default']!).sort());
  assert.equal(r.missing.length, Object.keys(llama.saved['default']!).length);
});

test('keys the checkpoint lacks are reported as missing', () => {
  const fx = loadCase('llama-two-adapters');
  const saved = Object.keys(fx.saved['second']!);
  const checkpoint = new Map(saved.slice(1).map((k) => [k, k]));
  const r = remapAdapterStateDictForLoad(layoutOf(fx), Object.keys(fx.model_keys), checkpoint, 'second');
  assert.deepEqual(r.missing, [fx.load_map['second']![saved[0]!]]);
});

test('loadPeftWeights reads adapter_model.safetensors, and adapter_model.bin when that is all there is', async () => {
  const st = await resolveAdapterFolder(fixturePath('peft', 'adapters', 'gpt2-lora'));
  const bin = await resolveAdapterFolder(fixturePath('peft', 'adapters', 'gpt2-lora-bin'));
  assert.equal(st.weights.format, 'safetensors');
  assert.equal(bin.weights.format, 'pytorch');
  const a = loadPeftWeights(st.weights);
  const b = loadPeftWeights(bin.weights);
  assert.deepEqual([...a.keys()].sort(), Object.keys(loadCase('gpt2-lora').saved['default']!).sort());
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, t] of a) {
    assert.deepEqual(b.get(k)!.shape, t.shape, k);
    assert.deepEqual(b.get(k)!.toArray(), t.toArray(), k);
  }
  for (const t of [...a.values(), ...b.values()]) t.dispose();
});

test('loadPeftWeights names the file and key of a tensor with an unusable dtype', () => {
  assert.throws(
    () => loadPeftWeights({ format: 'pytorch', file: fixturePath('formats', 'state_dict.bin') }),
    (e: unknown) => e instanceof AdapterWeightsError && e.file!.endsWith('state_dict.bin') && e.key !== undefined,
  );
});
