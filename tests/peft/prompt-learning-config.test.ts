import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PeftConfig, PromptLearningConfig } from '../../src/peft/config.js';
import { ConfigError } from '../../src/peft/errors.js';
import { IA3Config } from '../../src/peft/tuners/ia3/config.js';
import { PromptEncoderConfig } from '../../src/peft/tuners/p-tuning/config.js';
import { PrefixTuningConfig } from '../../src/peft/tuners/prefix-tuning/config.js';
import { PromptTuningConfig } from '../../src/peft/tuners/prompt-tuning/config.js';
import { preparePromptLearningConfig } from '../../src/peft/utils/other.js';
import { assertSameAdapterConfig } from '../helpers/peft.js';
import { fixturePath } from '../helpers/paths.js';
import { loadReference, promptIa3Case, promptIa3Cases } from '../helpers/prompt-ia3.js';

const CLASSES = { PROMPT_TUNING: PromptTuningConfig, P_TUNING: PromptEncoderConfig, PREFIX_TUNING: PrefixTuningConfig, IA3: IA3Config };

function modelConfig(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fixturePath('models', name, 'config.json'), 'utf8')) as Record<string, unknown>;
}

for (const c of promptIa3Cases()) {
  test(`${c.name}: adapter_config.json loads as ${c.peftType} and is written back as PEFT wrote it`, () => {
    const text = readFileSync(join(c.dir, 'adapter_config.json'), 'utf8');
    const config = PeftConfig.fromPretrained(c.dir);
    assert.ok(config instanceof CLASSES[c.peftType as keyof typeof CLASSES]);
    assert.equal(config.isPromptLearning, c.peftType !== 'IA3');
    assertSameAdapterConfig(config, text, c.name);
  });
}

test('prompt-learning configs built from options and prepared from the model config save as PEFT saved them', () => {
  const built: [string, PromptLearningConfig][] = [
    ['gpt2-prompt-tuning', new PromptTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 3 })],
    ['gpt2-p-tuning-mlp', new PromptEncoderConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 3, encoderHiddenSize: 16 })],
    [
      'gpt2-p-tuning-lstm',
      new PromptEncoderConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 3, encoderReparameterizationType: 'LSTM', encoderHiddenSize: 8, encoderNumLayers: 2 }),
    ],
    ['gpt2-prefix-tuning', new PrefixTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 3 })],
    ['gpt2-prefix-projection', new PrefixTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 3, prefixProjection: true, encoderHiddenSize: 16 })],
  ];
  for (const [name, config] of built) {
    preparePromptLearningConfig(config, modelConfig('gpt2-lm'));
    config.numTransformerSubmodules = 1;
    config.baseModelNameOrPath = 'tests/fixtures/models/gpt2-lm';
    assertSameAdapterConfig(config, readFileSync(join(promptIa3Case(name).dir, 'adapter_config.json'), 'utf8'), name);
  }
});

test('preparePromptLearningConfig fills layers, hidden size and heads as PEFT does (GQA models for prefix tuning)', () => {
  const { prepared } = loadReference<{ prepared: Record<string, Record<string, number>> }>();
  const ctors = { PromptTuningConfig, PromptEncoderConfig, PrefixTuningConfig };
  for (const [key, expected] of Object.entries(prepared)) {
    const [base, cls] = key.split('/') as [string, keyof typeof ctors];
    const config = preparePromptLearningConfig(new ctors[cls]({ taskType: 'CAUSAL_LM', numVirtualTokens: 4 }), modelConfig(base));
    const dict = config.toDict();
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, dict[k]])), expected, key);
  }
});

test('preparePromptLearningConfig keeps values the config sets and names what it cannot find', () => {
  const config = preparePromptLearningConfig(new PrefixTuningConfig({ numVirtualTokens: 2, numLayers: 1, encoderHiddenSize: 7 }), modelConfig('gpt2-lm'));
  assert.deepEqual([config.numLayers, config.tokenDim, config.encoderHiddenSize], [1, 32, 7]);
  const text = preparePromptLearningConfig(new PromptTuningConfig({ numVirtualTokens: 2 }), { text_config: modelConfig('bert-seqcls') });
  assert.equal(text.tokenDim, 32);
  assert.throws(() => preparePromptLearningConfig(new PromptTuningConfig({ numVirtualTokens: 2 }), { hidden_size: 8, num_attention_heads: 2 }), (e: unknown) => {
    return e instanceof ConfigError && e.key === 'num_layers' && /num_hidden_layers, num_layers, n_layer/.test(e.message);
  });
});

test('config checks of PEFT’s __post_init__', () => {
  assert.throws(() => new PromptTuningConfig({ promptTuningInit: 'TEXT', promptTuningInitText: 'hi' }), /tokenizer_name_or_path/);
  assert.throws(() => new PromptTuningConfig({ promptTuningInit: 'TEXT', tokenizerNameOrPath: 'tok' }), /prompt_tuning_init_text/);
  assert.throws(() => new PromptTuningConfig({ tokenizerKwargs: { use_fast: true } }), /tokenizer_kwargs/);
  assert.throws(() => PeftConfig.fromJSON({ peft_type: 'P_TUNING', encoder_reparameterization_type: 'GRU' }), ConfigError);
  assert.throws(() => new IA3Config({ targetModules: ['k', 'v'], feedforwardModules: ['wo'] }), /subset of target_modules/);
  assert.throws(() => new PrefixTuningConfig({ initWeights: 'ones' as 'zero' }), ConfigError);
  const ia3 = new IA3Config({ targetModules: new Set(['k', 'wo']), feedforwardModules: ['wo'] });
  assert.deepEqual([...(ia3.feedforwardModules as Set<string>)], ['wo']);
  assert.equal(new PromptEncoderConfig().peftType, 'P_TUNING');
});
