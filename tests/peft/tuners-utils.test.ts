import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { allLinearModuleNames, checkTargetModuleExists, findMinimalTargetModules, type ModuleInfo } from '../../src/peft/tuners/tuners-utils.js';
import { TargetModulesError } from '../../src/peft/errors.js';
import { captureWarnings, loadPeftFixture } from '../helpers/peft.js';

interface MatchingFixture {
  cases: { config: Record<string, unknown>; key: string; verdict: string }[];
  minimal_target_modules: { target_modules: string[]; other_module_names: string[]; result: string[] }[];
}

interface ModelsFixture {
  models: Record<string, { model_type: string | null; modules: { name: string; type: string; is_output_embedding?: boolean }[] }>;
  all_linear: { model: string; task_type: string | null; target_modules: string[] }[];
}

const matching = loadPeftFixture<MatchingFixture>('target-matching.json');
const models = loadPeftFixture<ModelsFixture>('models.json');

function moduleInfos(model: string): ModuleInfo[] {
  return models.models[model]!.modules.map((m) => ({ name: m.name, type: m.type, isOutputEmbedding: m.is_output_embedding }));
}

test('checkTargetModuleExists gives PEFT’s verdict on every fixture case', () => {
  assert.ok(matching.cases.length >= 60);
  const configs = new Map<string, LoraConfig>();
  for (const c of matching.cases) {
    const key = JSON.stringify(c.config);
    if (!configs.has(key)) configs.set(key, captureWarnings(() => LoraConfig.fromJSON(c.config)).result);
    assert.equal(checkTargetModuleExists(configs.get(key)!, c.key), c.verdict, `${c.key} with ${key}`);
  }
});

test('findMinimalTargetModules finds PEFT’s suffixes', () => {
  for (const c of matching.minimal_target_modules) {
    assert.deepEqual([...findMinimalTargetModules(c.target_modules, c.other_module_names)].sort(), c.result, JSON.stringify(c.target_modules));
  }
});

test('findMinimalTargetModules rejects what PEFT rejects', () => {
  assert.throws(() => findMinimalTargetModules([], ['a']), TargetModulesError);
  assert.throws(() => findMinimalTargetModules(['a', ''], ['b']), TargetModulesError);
  assert.throws(() => findMinimalTargetModules(['a.b', 'c'], ['c']), /both targets and other modules/);
});

test('"all-linear" expands to the Linear/Conv1D names PEFT picks on real models', () => {
  assert.ok(models.all_linear.length >= 10);
  for (const c of models.all_linear) {
    const info = models.models[c.model]!;
    const names = allLinearModuleNames(moduleInfos(c.model), { isTransformersModel: info.model_type !== null, taskType: c.task_type });
    assert.deepEqual([...names].sort(), c.target_modules, `${c.model} ${c.task_type}`);
  }
});

test('"all-linear" keeps earlier adapter layers whose kind is Linear-like but not their insides', () => {
  const modules: ModuleInfo[] = [
    { name: '', type: 'Net' },
    { name: 'a', type: 'LoraLinear', isTunerLayer: true },
    { name: 'a.base_layer', type: 'Linear' },
    { name: 'a.lora_A', type: 'ModuleDict' },
    { name: 'a.lora_A.default', type: 'Linear' },
    { name: 'b', type: 'Linear' },
    { name: 'e', type: 'LoraEmbedding', isTunerLayer: true },
  ];
  assert.deepEqual([...allLinearModuleNames(modules, { isTransformersModel: false, taskType: null })], ['a', 'b']);
});
