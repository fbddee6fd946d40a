import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PeftConfig } from '../../src/peft/config.js';
import { ConfigError } from '../../src/peft/errors.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { captureWarnings, loadPeftFixture, SET_KEYS } from '../helpers/peft.js';

interface LoadingFixture {
  cases: {
    name: string;
    file: string;
    warnings: string[];
    error?: { type: string; message: string };
    loaded_class?: string;
    via_peft_config?: boolean;
    to_dict?: Record<string, unknown>;
    unknown_keys?: string[];
  }[];
}

const fx = loadPeftFixture<LoadingFixture>('config-loading.json');
const root = mkdtempSync(join(tmpdir(), 'peftjs-config-load-'));
after(() => rmSync(root, { recursive: true, force: true }));

function writeAdapter(name: string, text: string): string {
  const dir = join(root, name.replace(/\W+/g, '-'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'adapter_config.json'), text);
  return dir;
}

function sortedSets(dict: Record<string, unknown>): Record<string, unknown> {
  const out = { ...dict };
  for (const k of SET_KEYS) if (Array.isArray(out[k])) out[k] = [...(out[k] as string[])].sort();
  return out;
}

for (const c of fx.cases) {
  test(`loading an adapter config: ${c.name}`, () => {
    const dir = writeAdapter(c.name, c.file);
    if (c.via_peft_config) {
      const config = PeftConfig.fromPretrained(dir);
      assert.equal(config.constructor.name, c.loaded_class);
      return;
    }
    if (c.error !== undefined || c.loaded_class !== undefined) {
      // PEFT fails, or returns another method's config: LoraConfig refuses the file.
      assert.throws(() => LoraConfig.fromPretrained(dir), ConfigError, c.error?.message ?? c.loaded_class);
      return;
    }
    const { result, warnings } = captureWarnings(() => LoraConfig.fromPretrained(dir));
    assert.deepEqual(sortedSets(result.toDict()), sortedSets(c.to_dict!));
    const unknown = warnings.flatMap((w) => {
      const m = /^Unknown keys (\[.*?\])/.exec(w);
      return m === null ? [] : (JSON.parse(m[1]!) as string[]).filter((k) => !k.includes('.'));
    });
    assert.deepEqual(unknown, c.unknown_keys);
    const mentionsRuntime = (ws: string[]) => ws.some((w) => w.includes('runtime_config'));
    assert.equal(mentionsRuntime(warnings), mentionsRuntime(c.warnings));
    assert.ok(warnings.length <= 1 + (mentionsRuntime(warnings) ? 1 : 0), 'unknown keys are reported in one warning');
  });
}

test('keys unknown inside a sub-config are listed in the same single warning', () => {
  const file = fx.cases.find((c) => c.name === 'nested unknown keys')!.file;
  const { result, warnings } = captureWarnings(() => LoraConfig.fromJSON(JSON.parse(file)));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /"eva_config\.future_option"/);
  assert.equal(result.arrowConfig?.taskAdapterNames, null);
});

test('fromPretrained accepts the folder or the file, and names the file in errors', () => {
  const dir = writeAdapter('paths', '{"peft_type": "LORA", "r": "4"}');
  assert.throws(() => LoraConfig.fromPretrained(dir), (e: Error) => e instanceof ConfigError && e.key === 'r' && e.message.includes(join(dir, 'adapter_config.json')));
  const ok = writeAdapter('paths-ok', '{"peft_type": "LORA", "r": 4}');
  assert.equal(LoraConfig.fromPretrained(join(ok, 'adapter_config.json')).r, 4);
  assert.throws(() => LoraConfig.fromPretrained(join(root, 'missing')), (e: Error) => e instanceof ConfigError && /no adapter folder/.test(e.message));
  const bad = writeAdapter('bad-json', '{"peft_type": ');
  assert.throws(() => LoraConfig.fromPretrained(bad), (e: Error) => e instanceof ConfigError && /not valid JSON/.test(e.message));
  assert.throws(() => LoraConfig.fromJSON([1, 2]), (e: Error) => e instanceof ConfigError && /JSON object/.test(e.message));
});

test('PeftConfig dispatches on peft_type and explains what it cannot load yet', () => {
  assert.ok(PeftConfig.fromJSON({ peft_type: 'LORA', r: 2 }) instanceof LoraConfig);
  assert.throws(() => PeftConfig.fromJSON({ peft_type: 'PREFIX_TUNING' }), (e: Error) => e instanceof ConfigError && /PREFIX_TUNING.*not supported yet.*LORA/.test(e.message));
  assert.throws(() => PeftConfig.fromJSON({ peft_type: 'NOPE' }), (e: Error) => e instanceof ConfigError && e.key === 'peft_type');
  assert.throws(() => PeftConfig.fromJSON({ r: 2 }), (e: Error) => e instanceof ConfigError && /missing/.test(e.message));
});

test('what we save loads back to the same config', () => {
  const config = new LoraConfig({
    taskType: 'SEQ_CLS',
    r: 4,
    targetModules: ['query', 'value'],
    rankPattern: { query: 2 },
    alphaPattern: { 'layer\\.0\\..*': 0.5 },
    initLoraWeights: 'eva',
    evaConfig: { rho: 1.5 },
    layersToTransform: 0,
    layersPattern: ['layer'],
    baseModelNameOrPath: 'bert-tiny-ü',
  });
  const dir = join(root, 'round-trip');
  config.save(dir);
  assert.equal(LoraConfig.fromPretrained(dir).toJsonString(), config.toJsonString());
});

test('copy() is a deep copy of the same class; save() writes inference_mode true unless told otherwise', () => {
  const config = new LoraConfig({ targetModules: ['q_proj', 'v_proj'], rankPattern: { v_proj: 2 }, initLoraWeights: 'olora' });
  const copy = config.copy();
  assert.ok(copy instanceof LoraConfig);
  assert.deepEqual(copy.toDict(), config.toDict());
  (copy.targetModules as Set<string>).add('o_proj');
  copy.rankPattern['v_proj'] = 4;
  assert.deepEqual([[...(config.targetModules as Set<string>)], config.rankPattern], [['q_proj', 'v_proj'], { v_proj: 2 }]);
  assert.equal(JSON.parse(config.toJsonString())['inference_mode'], true);
  assert.equal(JSON.parse(config.toJsonString({ inferenceMode: config.inferenceMode }))['inference_mode'], false);
});
