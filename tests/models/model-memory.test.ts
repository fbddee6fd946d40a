import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModelForCausalLM, GPT2LMHeadModel, ModelConfigError, type RawConfig } from '../../src/models/index.js';
import { autoClassFor, modelFixtureCases, modelFixtureDir } from '../helpers/model-fixtures.js';
import { makeTempDir } from '../helpers/temp.js';

const FAMILIES = ['gpt2', 'bert', 'roberta', 'distilbert', 'llama', 'mistral', 'qwen2', 't5'];

/** The config key holding the layer count and the hidden size of each family (first alias). */
const LAYERS: Record<string, string> = { gpt2: 'n_layer', distilbert: 'n_layers', t5: 'num_layers' };
const HIDDEN: Record<string, string> = { gpt2: 'n_embd', distilbert: 'dim', t5: 'd_model' };

const TOO_BIG = /^x\/config\.json: the model would hold at least [\d,]+ parameters \([\d,.]+ GiB as float32\), more than this machine's [\d,.]+ GiB of memory$/;

function fixtureConfig(name: string): RawConfig {
  return JSON.parse(readFileSync(join(modelFixtureDir(name), 'config.json'), 'utf8')) as RawConfig;
}

test('the parameter estimate never exceeds what a model of any family and task holds', () => {
  const cases = modelFixtureCases(...FAMILIES);
  assert.ok(cases.length >= 30);
  for (const name of cases) {
    const model = autoClassFor(name).fromConfig(fixtureConfig(name));
    try {
      const estimate = model.config.minParameterCount();
      const actual = model.numParameters();
      assert.ok(estimate <= actual, `${name}: estimate ${estimate} > ${actual} parameters`);
      // T5's counts the encoder only (T5EncoderModel has no decoder).
      assert.ok(estimate >= actual / 3, `${name}: estimate ${estimate} is not a useful bound on ${actual} parameters`);
    } finally {
      model.dispose();
    }
  }
});

test('a layer count or a hidden size too large for memory is refused before allocating, naming the config and the memory', () => {
  for (const family of FAMILIES) {
    const [name] = modelFixtureCases(family);
    // A per-layer list would have to grow with the layer count.
    const { layer_types: _, ...raw } = fixtureConfig(name!);
    const auto = autoClassFor(name!);
    const start = Date.now();
    for (const patch of [{ [LAYERS[family] ?? 'num_hidden_layers']: 1e9 }, { [HIDDEN[family] ?? 'hidden_size']: 2 ** 40 }]) {
      assert.throws(() => auto.fromConfig({ ...raw, ...patch }, 'x/config.json'), (e: Error) => e instanceof ModelConfigError && TOO_BIG.test(e.message), `${name} ${JSON.stringify(patch)}`);
    }
    assert.ok(Date.now() - start < 2000, `${family}: took ${Date.now() - start} ms`);
  }
});

test('fromPretrained refuses a config too large for memory, naming its config.json', async () => {
  const tmp = makeTempDir();
  try {
    copyFileSync(join(modelFixtureDir('gpt2-lm'), 'model.safetensors'), join(tmp.dir, 'model.safetensors'));
    writeFileSync(join(tmp.dir, 'config.json'), JSON.stringify({ ...fixtureConfig('gpt2-lm'), n_layer: 1e9 }));
    const configPath = join(tmp.dir, 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await assert.rejects(AutoModelForCausalLM.fromPretrained(tmp.dir), (e: Error) =>
      e instanceof ModelConfigError && new RegExp(`^${configPath}: .* parameters .* GiB of memory$`).test(e.message));
    writeFileSync(join(tmp.dir, 'config.json'), JSON.stringify(fixtureConfig('gpt2-lm')));
    const model = await GPT2LMHeadModel.fromPretrained(tmp.dir);
    assert.equal(model.config.numHiddenLayers, 2);
    model.dispose();
  } finally {
    tmp.remove();
  }
});
