// generate() on the tiny model fixtures against transformers' generate (tools/fixtures/generation_models.py):
// greedy search batched with left padding and alone, the model's generation_config.json, and LoRA adapters
// made by PEFT — active, disabled, merged, and one adapter per prompt in a mixed batch; PeftModels with
// LoRA adapters loaded from PEFT's files and with prompt learning on GPT-2, Llama and T5
// (tools/fixtures/peft_prompt_ia3.py: PEFT's greedy tokens and per-step logits).
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate } from '../../src/generate/index.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification } from '../../src/models/index.js';
import { AdapterError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { PrefixTuningConfig } from '../../src/peft/tuners/prefix-tuning/config.js';
import { PromptTuningConfig } from '../../src/peft/tuners/prompt-tuning/config.js';
import {
  fixtureAutoClass,
  fixtureSequences,
  generationModelCases,
  generationModelFixture,
  loadFixtureLoraModel,
  loadFixtureModel,
  checkFixtureGeneration,
} from '../helpers/generation-models.js';
import { fixturePath } from '../helpers/paths.js';
import { loadExpected, promptIa3Cases } from '../helpers/prompt-ia3.js';
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

test('a PeftModel generates through its adapters: loaded from PEFT files, mixed batches included', async () => {
  const name = 'llama-lm';
  const f = generationModelFixture(name);
  const dir = (adapter: string) => fixturePath('generation', 'models', name, 'adapters', adapter);
  const peft = await PeftModel.fromPretrained(await loadFixtureModel(name), dir('first'), { adapterName: 'first' });
  await peft.loadAdapter(dir('second'), 'second');
  const prompt = { inputIds: f.input_ids, attentionMask: f.attention_mask };
  const greedy = { maxNewTokens: f.new_tokens, padTokenId: f.pad_token_id };
  assert.deepEqual((await generate(peft, prompt, greedy)).sequences, fixtureSequences(f, 'adapter first'));
  const mixed = f.cases['mixed batch'] as { adapter_names: string[]; sequences: number[][] };
  assert.deepEqual((await generate(peft, prompt, { ...greedy, adapterNames: mixed.adapter_names })).sequences, mixed.sequences);
});

for (const c of promptIa3Cases().filter((x) => ['CAUSAL_LM', 'SEQ_2_SEQ_LM'].includes(x.taskType) && loadExpected(x).has('generate.sequences'))) {
  test(`${c.name}: prompt learning through a PeftModel generates PEFT's tokens, with its logits at every step`, async () => {
    const expected = loadExpected(c);
    const Auto = c.taskType === 'SEQ_2_SEQ_LM' ? AutoModelForSeq2SeqLM : AutoModelForCausalLM;
    const base = await Auto.fromPretrained(c.baseDir);
    await checkFixtureGeneration(await PeftModel.fromPretrained(base, c.dir), base, expected);
  });
}

test('generate() refuses prompt-learning adapters whose task does not generate on the model (typed errors)', async () => {
  const t5 = await AutoModelForSeq2SeqLM.fromPretrained(fixturePath('models', 't5-seq2seq'));
  const onT5 = getPeftModel(t5, new PromptTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 2 }));
  await assert.rejects(generate(onT5, [[5, 6, 1]], { maxNewTokens: 2 }), (e: unknown) => e instanceof AdapterError && /needs a SEQ_2_SEQ_LM adapter, this one is CAUSAL_LM/.test(e.message));
  const bert = await AutoModelForSequenceClassification.fromPretrained(fixturePath('models', 'bert-seqcls'));
  const onBert = getPeftModel(bert, new PrefixTuningConfig({ taskType: 'SEQ_CLS', numVirtualTokens: 2 }));
  await assert.rejects(generate(onBert, [[2, 5, 3]], { maxNewTokens: 2 }), (e: unknown) => e instanceof AdapterError && /needs a CAUSAL_LM adapter, this one is SEQ_CLS/.test(e.message));
});
