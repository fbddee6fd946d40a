// Generation settings: transformers' defaults (from the fixture), generation_config.json reading,
// precedence of call options, length rules, and errors that name the option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  GenerationConfigError,
  lengthLimits,
  modelGenerationDefaults,
  readGenerationConfig,
  resolveGenerationConfig,
  type GenerationOptions,
} from '../../src/generate/index.js';
import { generationFixture } from './helpers.js';

const { defaults } = generationFixture<{ defaults: Record<string, unknown> }>('processors.json');

function throwsNaming(fn: () => unknown, option: string, fragment?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GenerationConfigError, `expected a GenerationConfigError, got ${String(e)}`);
    assert.equal(e.option, option);
    assert.match(e.message, new RegExp(`'${option}'`));
    if (fragment) assert.match(e.message, fragment);
    return true;
  });
}

test("defaults are transformers' (top_k 50, 20 new tokens, greedy)", () => {
  const c = resolveGenerationConfig();
  assert.deepEqual(
    {
      max_new_tokens: c.maxNewTokens,
      max_length: lengthLimits(c, 7).maxLength - 7,
      min_new_tokens: c.minNewTokens,
      min_length: c.minLength,
      do_sample: c.doSample,
      temperature: c.temperature,
      top_k: c.topK,
      top_p: c.topP,
      repetition_penalty: c.repetitionPenalty,
      no_repeat_ngram_size: c.noRepeatNgramSize,
      eos_token_id: c.eosTokenIds.length === 0 ? null : c.eosTokenIds,
      pad_token_id: c.padTokenId,
      bos_token_id: c.bosTokenId,
      num_beams: 1,
      stop_strings: c.stopStrings.length === 0 ? null : c.stopStrings,
    },
    defaults,
  );
});

test('generation_config.json: snake_case keys, one or many EOS ids, null as unset, other keys ignored', () => {
  const json = {
    bos_token_id: 151643,
    do_sample: true,
    eos_token_id: [151645, 151643],
    pad_token_id: 151643,
    repetition_penalty: 1.05,
    temperature: 0.7,
    top_k: 20,
    top_p: 0.8,
    max_new_tokens: null,
    use_cache: true,
    transformers_version: '4.37.0',
    min_p: 0,
    num_beams: 1,
  };
  assert.deepEqual(readGenerationConfig(json), {
    bosTokenId: 151643,
    doSample: true,
    eosTokenId: [151645, 151643],
    padTokenId: 151643,
    repetitionPenalty: 1.05,
    temperature: 0.7,
    topK: 20,
    topP: 0.8,
    numBeams: 1,
  });
  assert.deepEqual(resolveGenerationConfig({}, readGenerationConfig({ eos_token_id: 2 })).eosTokenIds, [2]);
});

test('call options override the model defaults; null clears a default', () => {
  const model = readGenerationConfig({ eos_token_id: 2, pad_token_id: 0, temperature: 0.7, do_sample: true, stop_strings: 'END', max_new_tokens: 9 });
  const c = resolveGenerationConfig({ temperature: 1.2, eosTokenId: null, padTokenId: null, stopStrings: null, maxNewTokens: null }, model);
  assert.equal(c.temperature, 1.2);
  assert.equal(c.doSample, true);
  assert.deepEqual(c.eosTokenIds, []);
  assert.equal(c.padTokenId, null);
  assert.deepEqual(c.stopStrings, []);
  assert.equal(c.maxNewTokens, null);
  const kept = resolveGenerationConfig({}, model);
  assert.deepEqual([kept.eosTokenIds, kept.padTokenId, kept.stopStrings, kept.maxNewTokens], [[2], 0, ['END'], 9]);
  assert.equal(resolveGenerationConfig({ eosTokenId: [7, 8] }).padTokenId, 7, 'the pad token defaults to the first EOS id');
});

test('lengths: maxNewTokens wins over maxLength, minNewTokens over minLength', () => {
  const limits = (o: GenerationOptions, promptLength = 5) => lengthLimits(resolveGenerationConfig(o), promptLength);
  assert.deepEqual(limits({}), { maxLength: 25, minLength: 0 });
  assert.deepEqual(limits({ maxLength: 9, minLength: 7 }), { maxLength: 9, minLength: 7 });
  assert.deepEqual(limits({ maxLength: 9, maxNewTokens: 2, minLength: 7, minNewTokens: 1 }), { maxLength: 7, minLength: 6 });
  throwsNaming(() => limits({ maxLength: 5 }), 'maxLength', /prompt has 5 tokens/);
});

test('model defaults: generation_config.json, else the generation keys of config.json (nested text config too)', () => {
  const config = { model_type: 'x', bos_token_id: 1, hidden_size: 8, text_config: { eos_token_id: [2, 3], pad_token_id: null } };
  assert.deepEqual(modelGenerationDefaults({ config, generationConfig: null }), { bosTokenId: 1, eosTokenId: [2, 3] });
  assert.deepEqual(modelGenerationDefaults({ config, generationConfig: { eos_token_id: 9 } }), { eosTokenId: [9] });
  throwsNaming(() => modelGenerationDefaults({ config: { typical_p: 0.5 }, generationConfig: null }), 'typical_p', /config\.json/);
});

test('invalid values name the option as its source spells it', () => {
  throwsNaming(() => resolveGenerationConfig({ topP: 1.5 }), 'topP', /\[0, 1\], got 1\.5/);
  throwsNaming(() => resolveGenerationConfig({ topK: -1 }), 'topK');
  throwsNaming(() => resolveGenerationConfig({ maxNewTokens: 0 }), 'maxNewTokens', /positive integer/);
  throwsNaming(() => resolveGenerationConfig({ repetitionPenalty: 0 }), 'repetitionPenalty');
  throwsNaming(() => resolveGenerationConfig({ eosTokenId: [] }), 'eosTokenId');
  throwsNaming(() => resolveGenerationConfig({ eosTokenId: 1.5 }), 'eosTokenId');
  throwsNaming(() => resolveGenerationConfig({ stopStrings: [''] }), 'stopStrings');
  throwsNaming(() => resolveGenerationConfig({ doSample: 1 as unknown as boolean }), 'doSample');
  throwsNaming(() => resolveGenerationConfig({ topK: null as unknown as number }), 'topK', /null only clears/);
  throwsNaming(() => resolveGenerationConfig({ typicalP: 0.9 } as GenerationOptions), 'typicalP', /unknown option/);
  throwsNaming(() => readGenerationConfig({ top_p: 'high' }), 'top_p', /generation_config\.json/);
  throwsNaming(() => readGenerationConfig({ typical_p: 0.9 }), 'typical_p', /not supported/);
});

test('beam search is refused; temperature must be positive only when sampling', () => {
  throwsNaming(() => resolveGenerationConfig({ numBeams: 4 }), 'numBeams', /beam search is not supported/);
  throwsNaming(() => resolveGenerationConfig({}, readGenerationConfig({ num_beams: 4 })), 'num_beams');
  assert.equal(resolveGenerationConfig({ numBeams: 1 }, readGenerationConfig({ num_beams: 4 })).doSample, false, 'an option overrides it');
  assert.equal(resolveGenerationConfig({}, readGenerationConfig({ temperature: 0 })).temperature, 0, 'ignored by greedy search');
  throwsNaming(() => resolveGenerationConfig({ doSample: true }, readGenerationConfig({ temperature: 0 })), 'temperature', /model generation config.*doSample: false/);
  throwsNaming(() => resolveGenerationConfig({ doSample: true, temperature: 0 }), 'temperature');
});
