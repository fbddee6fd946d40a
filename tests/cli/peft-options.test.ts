// `peftjs train --peft-config`: IA3, LoHa and AdaLoRA adapters trained on the tiny Llama from their
// adapter_config.json, saved as PEFT saves them and loaded back (AdaLoRA pruned by its rank allocation);
// and the usage errors of the option.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromArray, noGrad, scope } from '../../src/engine/index.js';
import { SafetensorsFile } from '../../src/io/safetensors-reader.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { runMain } from '../helpers/run-main.js';
import { makeTinyLlamaFolder } from '../helpers/tiny-llama.js';

const TEXT = Array.from({ length: 12 }, (_, i) => `The cat number ${i} sat on the mat and looked at the dog.\nIt was a sunny day.`).join('\n\n');

function setup(): { model: string; work: string; common: string[] } {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-methods-'));
  writeFileSync(join(work, 'corpus.txt'), TEXT);
  const common = ['--model', model, '--data', join(work, 'corpus.txt'), '--block-size', '16', '--batch-size', '2', '--learning-rate', '1e-2', '--no-progress'];
  return { model, work, common };
}

function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Trains `config` for `steps` steps; returns the output folder and its adapter_config.json. */
async function trainWith(name: string, config: Record<string, unknown>, steps: number): Promise<{ out: string; saved: Record<string, unknown>; model: string }> {
  const { model, work, common } = setup();
  const out = join(work, 'out');
  const r = await runMain(['train', ...common, '--output', out, '--max-steps', String(steps), '--peft-config', writeJson(work, `${name}.json`, config)]);
  assert.equal(r.status, 0, r.stderr);
  return { out, model, saved: JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown> };
}

/** Loads the adapter with PeftModel.fromPretrained; its trained weights move the logits away from the base model's. */
async function assertLoadsBack(model: string, out: string): Promise<void> {
  const peft = await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(model), out);
  const inputIds = fromArray([[1, 2, 3, 4, 5]], [1, 5], 'int32');
  const logits = () => noGrad(() => scope(() => peft.forward({ inputIds }).logits!.toArray()));
  const adapted = logits();
  const base = peft.disableAdapter(logits);
  assert.ok(adapted.every(Number.isFinite));
  assert.ok(adapted.some((v, i) => v !== base[i]), 'the loaded adapter changes the outputs');
}

function tensorShapes(out: string): Map<string, number[]> {
  const st = SafetensorsFile.open(join(out, 'adapter_model.safetensors'));
  try {
    return new Map(st.keys().map((k) => [k, st.info(k).shape]));
  } finally {
    st.close();
  }
}

test('--peft-config trains IA3 (default targets for the model type) with the task type of --task', async () => {
  const { out, model, saved } = await trainWith('ia3', { peft_type: 'IA3', inference_mode: true }, 3);
  assert.equal(saved['peft_type'], 'IA3');
  assert.equal(saved['task_type'], 'CAUSAL_LM');
  assert.deepEqual([...(saved['target_modules'] as string[])].sort(), ['down_proj', 'k_proj', 'v_proj']);
  const keys = [...tensorShapes(out).keys()];
  assert.equal(keys.length, 6, 'k_proj, v_proj and down_proj vectors of both layers');
  assert.ok(keys.every((k) => /\.ia3_l$/.test(k)));
  await assertLoadsBack(model, out);
});

test('--peft-config trains LoHa', async () => {
  const { out, model, saved } = await trainWith('loha', { peft_type: 'LOHA', r: 2, alpha: 4, target_modules: ['q_proj', 'v_proj'] }, 3);
  assert.equal(saved['peft_type'], 'LOHA');
  assert.equal(saved['r'], 2);
  assert.equal(tensorShapes(out).size, 2 * 2 * 4, 'hada_w1_a, hada_w1_b, hada_w2_a, hada_w2_b on 2 modules of 2 layers');
  await assertLoadsBack(model, out);
});

test('--peft-config trains AdaLoRA with its rank allocation after each optimizer step: the saved adapter is pruned to target_r', async () => {
  const config = { peft_type: 'ADALORA', task_type: 'CAUSAL_LM', init_r: 4, target_r: 2, tinit: 1, tfinal: 1, total_step: 5, target_modules: ['q_proj', 'v_proj'] };
  const { out, model, saved } = await trainWith('adalora', config, 5);
  assert.equal(saved['peft_type'], 'ADALORA');
  const pattern = saved['rank_pattern'] as Record<string, boolean[]>;
  assert.deepEqual(Object.keys(pattern).sort(), ['0.self_attn.q_proj', '0.self_attn.v_proj', '1.self_attn.q_proj', '1.self_attn.v_proj'].map((m) => `model.layers.${m}.lora_E`));
  const kept = Object.values(pattern).map((mask) => mask.filter(Boolean).length);
  assert.equal(kept.reduce((a, b) => a + b, 0), 2 * 4, 'the final budget: target_r per layer');
  const shapes = tensorShapes(out);
  for (const [key, mask] of Object.entries(pattern)) assert.deepEqual(shapes.get(`base_model.model.${key}`), [mask.filter(Boolean).length, 1], key);
  await assertLoadsBack(model, out);
});

test('--peft-config usage errors: a task_type clash, LoRA options beside it, a missing file, malformed JSON, an AdaLoRA config without total_step or with --resume', async () => {
  const { work, common } = setup();
  const out = ['--output', join(work, 'out')];
  const usage = async (args: string[], pattern: RegExp) => {
    const r = await runMain(['train', ...common, ...out, ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, pattern);
  };
  const ia3 = writeJson(work, 'ia3-cls.json', { peft_type: 'IA3', task_type: 'SEQ_CLS' });
  await usage(['--peft-config', ia3], /^peftjs train: --peft-config: .*ia3-cls\.json has task_type "SEQ_CLS", but --task causal-lm trains "CAUSAL_LM" adapters/);
  await usage(['--peft-config', ia3, '--r', '4', '--target-modules', 'q_proj'], /^peftjs train: --peft-config cannot be combined with --r, --target-modules/);
  await usage(['--peft-config', join(work, 'nope.json')], /^peftjs train: --peft-config: cannot read .*nope\.json: ENOENT/);
  writeFileSync(join(work, 'bad.json'), '{"peft_type": "IA3",');
  await usage(['--peft-config', join(work, 'bad.json')], /^peftjs train: --peft-config: .*bad\.json is not valid JSON/);
  const noTotal = writeJson(work, 'adalora.json', { peft_type: 'ADALORA', tinit: 1, tfinal: 1 });
  await usage(['--peft-config', noTotal], /^peftjs train: --peft-config: .*adalora\.json: 'total_step' must be a number of steps above 0/);
  const adalora = writeJson(work, 'adalora-ok.json', { peft_type: 'ADALORA', init_r: 4, target_r: 2, total_step: 5 });
  await usage(['--peft-config', adalora, '--resume'], /^peftjs train: --resume: AdaLoRA's rank allocator .* is not saved in checkpoints/);
});
