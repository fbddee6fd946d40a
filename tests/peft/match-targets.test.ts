import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TargetModulesError } from '../../src/peft/errors.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { matchTargets } from '../../src/peft/tuners/match-targets.js';
import type { ModuleInfo } from '../../src/peft/tuners/tuners-utils.js';
import { getPatternKey } from '../../src/peft/utils/other.js';
import { assertSameAdapterConfig, captureWarnings, loadPeftFixture } from '../helpers/peft.js';

interface ModelsFixture {
  models: Record<string, { model_type: string | null; class: string; module: string; modules: { name: string; type: string; is_output_embedding?: boolean }[] }>;
  cases: {
    model: string;
    task_type: string | null;
    config: Record<string, unknown>;
    warnings: string[];
    error?: { type: string; message: string };
    targeted?: string[];
    modules_to_save?: string[] | null;
    target_modules?: string | string[];
    layers?: Record<string, { r: number; alpha: number }>;
    adapter_config?: string;
  }[];
}

const fx = loadPeftFixture<ModelsFixture>('models.json');

function modulesOf(model: string): ModuleInfo[] {
  return fx.models[model]!.modules.map((m) => ({ name: m.name, type: m.type, isOutputEmbedding: m.is_output_embedding }));
}

function pick(record: Record<string, number>, name: string, fallback: number): number {
  const key = getPatternKey(Object.keys(record), name);
  return Object.hasOwn(record, key) ? record[key]! : fallback;
}

// PEFT's warning and ours on the same topic (wording differs).
const TOPICS: [string, RegExp, RegExp][] = [
  ['unused exclude_modules', /but no modules were excluded/, /excluded no module/],
  ['unused rank_pattern keys', /rank_pattern keys did not match/, /rank_pattern keys/],
  ['unused alpha_pattern keys', /alpha_pattern keys did not match/, /alpha_pattern keys/],
];

for (const c of fx.cases) {
  const label = `${c.model} ${c.task_type ?? 'no task'} ${JSON.stringify(c.config)}`;
  test(`matchTargets on ${label}`, () => {
    const model = fx.models[c.model]!;
    const { result: config } = captureWarnings(() => LoraConfig.fromJSON({ ...c.config, task_type: c.task_type }));
    // PEFT's task wrappers add their heads to modules_to_save before injecting (recorded from PEFT).
    if (c.modules_to_save !== undefined) config.modulesToSave = c.modules_to_save;
    const options = model.model_type === null ? {} : { modelType: model.model_type };
    const run = () => captureWarnings(() => matchTargets(modulesOf(c.model), config, options));
    if (c.error !== undefined) {
      assert.throws(run, TargetModulesError, `PEFT raised ${c.error.type}: ${c.error.message}`);
      return;
    }
    const { result: match, warnings } = run();
    assert.deepEqual(match.targeted, c.targeted);
    const resolved = typeof match.targetModules === 'string' ? match.targetModules : [...match.targetModules].sort();
    assert.deepEqual(resolved, c.target_modules, 'resolved target_modules');
    for (const name of match.targeted) {
      assert.deepEqual(
        { r: pick(config.rankPattern, name, config.r), alpha: pick(config.alphaPattern, name, config.loraAlpha) },
        c.layers![name],
        `rank/alpha of ${name}`,
      );
    }
    for (const [topic, theirs, ours] of TOPICS) {
      assert.equal(warnings.some((w) => ours.test(w)), c.warnings.some((w) => theirs.test(w)), `warning about ${topic}`);
    }
    config.targetModules = match.targetModules;
    const autoMapping = { baseModelClass: model.class, parentLibrary: model.module };
    assertSameAdapterConfig(config, c.adapter_config!, label, { autoMapping });
  });
}

test('a target that matches nothing is reported with the nearest real names', () => {
  const config = new LoraConfig({ targetModules: ['q_prj', 'v_proj_'] });
  assert.throws(
    () => matchTargets(modulesOf('llama-causal'), config, { modelType: 'llama' }),
    (e: Error) => e instanceof TargetModulesError && /'q_prj' → did you mean 'q_proj'/.test(e.message) && /'v_proj_' → did you mean 'v_proj'/.test(e.message),
  );
});

test('a model type without default targets names the type and how to fix it', () => {
  assert.throws(() => matchTargets(modulesOf('distilbert'), new LoraConfig(), { modelType: 'distilbert' }), /model type 'distilbert'.*targetModules/);
});

test('nothing is targeted inside an existing adapter layer', () => {
  const modules: ModuleInfo[] = [
    { name: '', type: 'Net' },
    { name: 'q_proj', type: 'LoraLinear', isTunerLayer: true },
    { name: 'q_proj.base_layer', type: 'Linear' },
    { name: 'q_proj.lora_A.default', type: 'Linear' },
  ];
  const config = new LoraConfig({ targetModules: 'all-linear' });
  assert.deepEqual(matchTargets(modules, config).targeted, ['q_proj']);
  assert.deepEqual(matchTargets(modules, new LoraConfig({ targetModules: ['base_layer', 'q_proj'] })).targeted, ['q_proj']);
});

test('matchTargets does not change the config', () => {
  const config = new LoraConfig({ targetModules: 'all-linear' });
  const match = matchTargets(modulesOf('llama-causal'), config, { modelType: 'llama' });
  assert.equal(config.targetModules, 'all-linear');
  assert.deepEqual([...match.targetModules].sort(), ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
});
