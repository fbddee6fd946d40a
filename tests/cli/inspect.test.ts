// `peftjs inspect` on an adapter folder written the way PEFT writes one.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zeros } from '../../src/engine/index.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { LoHaConfig } from '../../src/peft/tuners/loha/config.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { runCli } from '../helpers/run-cli.js';

function makeAdapter(weightRank = 4): string {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-inspect-'));
  LoraConfig.fromJSON({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: 'org/tiny-llama' }).save(dir);
  const tensors: Record<string, ReturnType<typeof zeros>> = {};
  for (const layer of [0, 1]) {
    for (const m of ['q_proj', 'v_proj']) {
      tensors[`base_model.model.model.layers.${layer}.self_attn.${m}.lora_A.weight`] = zeros([weightRank, 32]);
      tensors[`base_model.model.model.layers.${layer}.self_attn.${m}.lora_B.weight`] = zeros([m === 'q_proj' ? 32 : 16, weightRank]);
    }
  }
  saveSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
  return dir;
}

test('inspect --json: config fields, parameter count from the shapes, file sizes', () => {
  const dir = makeAdapter();
  const r = runCli(['inspect', dir, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(s['method'], 'LORA');
  assert.equal(s['rank'], 4);
  assert.deepEqual(s['weightRanks'], [4]);
  assert.equal(s['alpha'], 8);
  assert.deepEqual([...(s['targetModules'] as string[])].sort(), ['q_proj', 'v_proj']);
  assert.equal(s['taskType'], 'CAUSAL_LM');
  assert.equal(s['baseModel'], 'org/tiny-llama');
  assert.equal(s['tensors'], 8);
  assert.equal(s['trainableParameters'], 2 * (4 * 32 + 32 * 4 + 4 * 32 + 16 * 4));
  assert.deepEqual(s['files'], [
    { name: 'adapter_config.json', bytes: statSync(join(dir, 'adapter_config.json')).size },
    { name: 'adapter_model.safetensors', bytes: statSync(join(dir, 'adapter_model.safetensors')).size },
  ]);
});

test('inspect: the table, and a typed error for a folder without an adapter', () => {
  const r = runCli(['inspect', makeAdapter()]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^method\s+LORA$/m);
  assert.match(r.stdout, /^trainable parameters\s+896$/m);
  const empty = runCli(['inspect', mkdtempSync(join(tmpdir(), 'peftjs-empty-'))]);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /ModelFolderError: .* has no adapter_config\.json/);
});

test('inspect: the config is checked, and the ranks the weights hold are shown beside the configured one', () => {
  const mismatched = runCli(['inspect', makeAdapter(8)]);
  assert.equal(mismatched.status, 0, mismatched.stderr);
  assert.match(mismatched.stdout, /^rank\s+4$/m);
  assert.match(mismatched.stdout, /^ranks in the weights\s+8$/m);
  for (const [key, value, pattern] of [
    ['peft_type', 'FOO', /peft_type.*must be one of/],
    ['r', '4', /'r' must be a positive integer, got "4"/],
  ] as const) {
    const dir = makeAdapter();
    const path = join(dir, 'adapter_config.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), [key]: value }));
    const r = runCli(['inspect', dir]);
    assert.equal(r.status, 1, `${key}: ${r.stdout}`);
    assert.match(r.stderr, /ConfigError/);
    assert.match(r.stderr, pattern);
  }
});

test('inspect shows the alpha of methods that keep it under another key (LoHa: alpha)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-inspect-'));
  LoHaConfig.fromJSON({ peft_type: 'LOHA', task_type: 'CAUSAL_LM', r: 4, alpha: 6, target_modules: ['q_proj'] }).save(dir);
  saveSafetensors(join(dir, 'adapter_model.safetensors'), { 'base_model.model.model.layers.0.self_attn.q_proj.hada_w1_a': zeros([32, 4]) });
  const r = runCli(['inspect', dir, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(s['method'], 'LOHA');
  assert.equal(s['alpha'], 6);
});
