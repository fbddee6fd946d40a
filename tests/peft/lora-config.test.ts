import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/peft/errors.js';
import { LoraConfig, type LoraConfigOptions } from '../../src/peft/tuners/lora/config.js';
import { snakeToCamel } from '../../src/peft/utils/config-fields.js';
import { assertSameAdapterConfig, captureWarnings, loadPeftFixture } from '../helpers/peft.js';

interface AdapterConfigsFixture {
  cases: { name: string; config: Record<string, unknown>; warnings: string[]; adapter_config: string }[];
}

interface MatchingFixture {
  config_errors: { config: Record<string, unknown>; error: { type: string; message: string } }[];
}

const adapterConfigs = loadPeftFixture<AdapterConfigsFixture>('adapter-configs.json');
const { config_errors: configErrors } = loadPeftFixture<MatchingFixture>('target-matching.json');

function camelOptions(kwargs: Record<string, unknown>): LoraConfigOptions {
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [snakeToCamel(k), v])) as LoraConfigOptions;
}

test('fixture covers at least 15 configurations', () => {
  assert.ok(adapterConfigs.cases.length >= 15);
});

for (const c of adapterConfigs.cases) {
  test(`adapter_config.json as PEFT writes it: ${c.name}`, () => {
    const fromJson = captureWarnings(() => LoraConfig.fromJSON(c.config));
    assertSameAdapterConfig(fromJson.result, c.adapter_config, `${c.name} (fromJSON)`);
    assert.equal(fromJson.warnings.length, c.warnings.length, `warnings: ours ${JSON.stringify(fromJson.warnings)}, PEFT ${JSON.stringify(c.warnings)}`);
    const constructed = captureWarnings(() => new LoraConfig(camelOptions(c.config)));
    assertSameAdapterConfig(constructed.result, c.adapter_config, `${c.name} (constructor)`);
  });
}

test('the defaults are PEFT’s, with all 41 keys', () => {
  const expected = JSON.parse(adapterConfigs.cases.find((c) => c.name === 'defaults')!.adapter_config) as Record<string, unknown>;
  const dict = new LoraConfig().toDict();
  assert.equal(Object.keys(dict).length, 41);
  assert.deepEqual({ ...dict, inference_mode: true }, expected);
});

test('invalid combinations PEFT rejects raise ConfigError naming the key', () => {
  assert.ok(configErrors.length >= 20);
  for (const c of configErrors) {
    const keys = Object.keys(c.config);
    for (const build of [() => LoraConfig.fromJSON(c.config), () => new LoraConfig(camelOptions(c.config))]) {
      assert.throws(
        () => captureWarnings(build),
        (e: Error) => e instanceof ConfigError && keys.some((k) => e.key === k || e.key === snakeToCamel(k) || e.key!.startsWith(`${k}.`) || e.key!.startsWith(`${snakeToCamel(k)}.`)),
        `${JSON.stringify(c.config)} (PEFT: ${c.error.message})`,
      );
    }
  }
});

test('wrong types raise ConfigError naming the key and what was expected', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ r: '8' }, 'r', /must be a positive integer, got "8"/],
    [{ r: 0 }, 'r', /positive integer/],
    [{ lora_alpha: '16' }, 'lora_alpha', /must be a number/],
    [{ target_modules: 5 }, 'target_modules', /a string or a list of strings or null/],
    [{ layers_to_transform: [1, 'a'] }, 'layers_to_transform', /an integer or a list of integers/],
    [{ rank_pattern: { q_proj: '4' } }, 'rank_pattern.q_proj', /positive integer/],
    [{ bias: 'some' }, 'bias', /one of "none", "all", "lora_only"/],
    [{ init_lora_weights: 'guassian' }, 'init_lora_weights', /"gaussian"/],
    [{ modules_to_save: 'lm_head' }, 'modules_to_save', /a list of strings or null/],
    [{ eva_config: { rho: 'x' }, init_lora_weights: 'eva' }, 'eva_config.rho', /a number/],
    [{ lora_dropout: 2 }, 'lora_dropout', /between 0 and 1/],
    [{ layer_replication: [[0, 2, 4]] }, 'layer_replication[0]', /\[start, end\] pair/],
    [{ trainable_token_indices: { embed_tokens: [1.5] } }, 'trainable_token_indices', /list of integers/],
    [{ task_type: 'causal_lm' }, 'task_type', /one of "SEQ_CLS"/],
  ];
  for (const [json, key, detail] of cases) {
    assert.throws(() => LoraConfig.fromJSON(json), (e: Error) => e instanceof ConfigError && e.key === key && detail.test(e.message), `${JSON.stringify(json)}`);
  }
  assert.throws(() => new LoraConfig({ loraAlpha: '16' as unknown as number }), (e: Error) => e instanceof ConfigError && e.key === 'loraAlpha');
});

test('patterns that cannot run as regexes are refused up front, naming the key', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ target_modules: '(?P<x>a' }, 'target_modules'],
    [{ target_modules: '(?>atomic)' }, 'target_modules'],
    [{ exclude_modules: '[' }, 'exclude_modules'],
    [{ rank_pattern: { 'q_proj[': 4 } }, 'rank_pattern'],
    [{ alpha_pattern: { '*': 4 } }, 'alpha_pattern'],
    [{ modules_to_save: ['head('] }, 'modules_to_save'],
    [{ target_modules: ['q'], layers_to_transform: [0], layers_pattern: 'layers[' }, 'layers_pattern'],
  ];
  for (const [json, key] of cases) {
    assert.throws(() => LoraConfig.fromJSON(json), (e: Error) => e instanceof ConfigError && e.key === key && /regex/.test(e.message), JSON.stringify(json));
  }
});

test('unknown options: an error when constructing, one warning when reading JSON', () => {
  assert.throws(() => new LoraConfig({ rank: 4 } as LoraConfigOptions), (e: Error) => e instanceof ConfigError && e.key === 'rank' && /not a known option/.test(e.message));
  const { result, warnings } = captureWarnings(() => LoraConfig.fromJSON({ peft_type: 'LORA', rank: 4, eva_config: { rho: 2, extra: 1 }, init_lora_weights: 'eva' }));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /\["eva_config\.extra","rank"\]/);
  assert.equal(result.r, 8);
});

test('snake_case and camelCase keys are both accepted, but not both at once', () => {
  const a = LoraConfig.fromJSON({ lora_alpha: 16, target_modules: ['q'], evaConfig: { useLabelMask: false }, init_lora_weights: 'eva' });
  const b = LoraConfig.fromJSON({ loraAlpha: 16, targetModules: ['q'], eva_config: { use_label_mask: false }, initLoraWeights: 'eva' });
  assert.equal(a.toJsonString(), b.toJsonString());
  assert.equal(a.evaConfig?.useLabelMask, false);
  assert.throws(() => LoraConfig.fromJSON({ lora_alpha: 16, loraAlpha: 8 }), (e: Error) => e instanceof ConfigError && /given twice/.test(e.message));
});

test('list-valued targets become sets: duplicates dropped, Sets and arrays accepted', () => {
  const config = new LoraConfig({ targetModules: new Set(['q_proj', 'v_proj']), excludeModules: ['lm_head', 'lm_head'] });
  assert.deepEqual(config.targetModules, new Set(['q_proj', 'v_proj']));
  assert.deepEqual(config.toDict()['exclude_modules'], ['lm_head']);
});

test('peft_type is always LORA and inference_mode is saved as true', () => {
  const config = new LoraConfig({ peftType: 'IA3', inferenceMode: false });
  assert.equal(config.peftType, 'LORA');
  assert.equal(config.inferenceMode, false);
  assert.equal(JSON.parse(config.toJsonString())['inference_mode'], true);
});

test('auto_mapping is written only for configs without a task type', () => {
  const autoMapping = { baseModelClass: 'MLP', parentLibrary: '__main__' };
  assert.deepEqual(JSON.parse(new LoraConfig().toJsonString({ autoMapping }))['auto_mapping'], { base_model_class: 'MLP', parent_library: '__main__' });
  assert.equal(JSON.parse(new LoraConfig({ taskType: 'CAUSAL_LM' }).toJsonString({ autoMapping }))['auto_mapping'], null);
});

test('save writes adapter_config.json atomically into a created folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'peftjs-config-'));
  try {
    const dir = join(root, 'nested', 'adapter');
    const config = new LoraConfig({ r: 4, targetModules: ['q_proj'], loraDropout: 0.05 });
    config.save(dir);
    assert.deepEqual(readdirSync(dir), ['adapter_config.json']);
    assert.equal(readFileSync(join(dir, 'adapter_config.json'), 'utf8'), config.toJsonString());
    config.r = 16;
    config.save(dir);
    assert.equal(JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'))['r'], 16);
    assert.deepEqual(readdirSync(dir), ['adapter_config.json']);
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    assert.throws(() => config.save(file), (e: Error) => e instanceof ConfigError && /is a file/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
