// generate() on the tiny model fixtures against transformers' generate (tools/fixtures/generation_models.py):
// greedy search batched with left padding and alone, the model's generation_config.json, and LoRA adapters
// made by PEFT — active, disabled, merged, and one adapter per prompt in a mixed batch.
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate } from '../../src/generate/index.js';
import {
  fixtureAutoClass,
  fixtureSequences,
  generationModelCases,
  generationModelFixture,
  loadFixtureLoraModel,
  loadFixtureModel,
} from '../helpers/generation-models.js';
import { fixturePath } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp.js';

for (const name of generationModelCases()) {
  const f = generationModelFixture(name);
  const prompt = { inputIds: f.input_ids, attentionMask: f.attention_mask };
  const greedy = { maxNewTokens: f.new_tokens, padTokenId: f.pad_token_id };

  test(`${name}: greedy, batched with left padding and alone`, async () => {
    const model = await loadFixtureModel(name);
    assert.deepEqual((await generate(model, prompt, greedy)).sequences, fixtureSequences(f, 'greedy'));
    assert.deepEqual((await generate(model, f.single_input_ids[0]!, greedy)).sequences, fixtureSequences(f, 'greedy, one prompt'));
  });

  test(`${name}: defaults from the model folder's generation_config.json`, async () => {
    const { dir, remove } = makeTempDir();
    try {
      const src = fixturePath('models', name);
      for (const file of readdirSync(src)) copyFileSync(join(src, file), join(dir, file));
      copyFileSync(fixturePath('generation', 'models', name, 'generation_config.json'), join(dir, 'generation_config.json'));
      const model = await fixtureAutoClass(name).fromPretrained(dir);
      assert.deepEqual((await generate(model, prompt)).sequences, fixtureSequences(f, 'generation config'));
    } finally {
      remove();
    }
  });

  test(`${name}: LoRA adapters active, disabled, merged, and one per prompt`, async () => {
    const lora = await loadFixtureLoraModel(name);
    const run = async (options = {}) => (await generate(lora, prompt, { ...greedy, ...options })).sequences;
    assert.deepEqual(await run(), fixtureSequences(f, 'adapter first'), 'active adapter');
    assert.deepEqual(await lora.withDisabledAdapters(() => run()), fixtureSequences(f, 'adapters disabled'), 'disabled');
    const mixed = f.cases['mixed batch'] as { adapter_names: string[]; sequences: number[][] };
    assert.deepEqual(await run({ adapterNames: mixed.adapter_names }), mixed.sequences, 'mixed batch');
    lora.mergeAdapter();
    assert.deepEqual(await run(), fixtureSequences(f, 'adapter first merged'), 'merged');
  });
}
