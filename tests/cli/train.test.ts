// `peftjs train` end to end on a tiny Llama whose vocabulary fits the byte-level BPE fixture tokenizer:
// packed text and chat records, the PEFT adapter files, metrics, checkpoints and resuming.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SafetensorsFile } from '../../src/io/safetensors-reader.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTinyLlamaFolder } from '../helpers/tiny-llama.js';

const TEXT = Array.from({ length: 12 }, (_, i) => `The cat number ${i} sat on the mat and looked at the dog.\nIt was a sunny day.`).join('\n\n');

function metrics(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
}

function adapterTensors(dir: string): Map<string, Float32Array> {
  const st = SafetensorsFile.open(join(dir, 'adapter_model.safetensors'));
  try {
    return new Map(st.keys().map((k) => [k, new Float32Array(st.readRaw(k).bytes.slice().buffer)]));
  } finally {
    st.close();
  }
}

test('train on packed text: PEFT adapter files with only LoRA weights, finite losses, checkpoints, resume', () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-train-'));
  writeFileSync(join(work, 'corpus.txt'), TEXT);
  const out = join(work, 'out');
  const common = ['--model', model, '--data', join(work, 'corpus.txt'), '--output', out, '--block-size', '16', '--batch-size', '2', '--learning-rate', '1e-2', '--target-modules', 'q_proj,v_proj', '--logging-steps', '1', '--save-steps', '2'];
  const r = runCli(['train', ...common, '--max-steps', '4', '--r', '4', '--lora-alpha', '8']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /trainable params: 896 \|/);
  const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config['peft_type'], 'LORA');
  assert.equal(config['task_type'], 'CAUSAL_LM');
  assert.equal(config['r'], 4);
  assert.equal(config['lora_alpha'], 8);
  assert.deepEqual([...(config['target_modules'] as string[])].sort(), ['q_proj', 'v_proj']);
  const tensors = adapterTensors(out);
  assert.equal(tensors.size, 8);
  for (const [k, v] of tensors) {
    assert.match(k, /^base_model\.model\.model\.layers\.[01]\.self_attn\.[qv]_proj\.lora_[AB]\.weight$/);
    if (k.includes('lora_B')) assert.ok(v.some((x) => x !== 0), `${k} was trained away from its zero initialisation`);
  }
  const losses = metrics(out).filter((m) => 'loss' in m);
  assert.equal(losses.length, 4);
  for (const m of losses) assert.ok(Number.isFinite(m['loss']), `loss ${m['loss']}`);
  assert.ok(existsSync(join(out, 'loss.svg')));
  assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('checkpoint-')).sort(), ['checkpoint-2', 'checkpoint-4']);

  const resumed = runCli(['train', ...common, '--max-steps', '6', '--r', '4', '--lora-alpha', '8', '--resume', '--no-progress']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(resumed.stdout, '');
  assert.deepEqual(metrics(out).filter((m) => 'loss' in m).map((m) => m['step']), [1, 2, 3, 4, 5, 6]);
});

test('train on {prompt, completion} records through the chat template with a held-out split; option errors', () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-chat-'));
  const records = Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `What is ${i} plus one?`, completion: `It is ${i + 1}.` }));
  writeFileSync(join(work, 'chat.jsonl'), `${records.join('\n')}\n`);
  const out = join(work, 'out');
  const r = runCli(['train', '--model', model, '--data', join(work, 'chat.jsonl'), '--output', out, '--max-steps', '2', '--batch-size', '2', '--validation-size', '2', '--no-progress']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(out, 'adapter_model.safetensors')));
  for (const m of metrics(out).filter((x) => 'loss' in x)) assert.ok(Number.isFinite(m['loss']));
  const evals = metrics(out).filter((x) => 'eval_loss' in x);
  assert.equal(evals.length, 1);
  assert.ok(Number.isFinite(evals[0]!['eval_loss']));

  const task = runCli(['train', '--model', model, '--data', join(work, 'chat.jsonl'), '--output', out, '--task', 'seq-class']);
  assert.equal(task.status, 2);
  assert.match(task.stderr, /--task: expected one of causal-lm, seq-cls, token-cls, qa, seq2seq, got "seq-class"/);
  const misplaced = runCli(['train', '--model', model, '--data', join(work, 'chat.jsonl'), '--output', out, '--label-field', 'y']);
  assert.equal(misplaced.status, 2);
  assert.match(misplaced.stderr, /--label-field applies to --task seq-cls, not causal-lm/);
  const data = runCli(['train', '--model', model, '--data', join(work, 'chat.csv'), '--output', out]);
  assert.match(data.stderr, /--data: expected a \.jsonl or \.txt file/);
  const missing = runCli(['train', '--model', model, '--output', out]);
  assert.match(missing.stderr, /missing required option --data/);
});

test('bad records surface as line-numbered DataErrors; a text file is refused for classification', () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-bad-'));
  writeFileSync(join(work, 'cls.jsonl'), `${JSON.stringify({ text: 'good', label: 'a' })}\n${JSON.stringify({ text: 'fine', label: 'b' })}\n${JSON.stringify({ text: 'no label' })}\n`);
  const out = join(work, 'out');
  const bad = runCli(['train', '--task', 'seq-cls', '--model', model, '--data', join(work, 'cls.jsonl'), '--output', out, '--max-steps', '1']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^peftjs train: DataError: .*cls\.jsonl:3: field "label" missing/);
  writeFileSync(join(work, 'tags.jsonl'), `${JSON.stringify({ tokens: ['a', 'b'], tags: ['X'] })}\n`);
  const tags = runCli(['eval', '--task', 'token-cls', '--model', model, '--data', join(work, 'tags.jsonl')]);
  assert.equal(tags.status, 2);
  assert.match(tags.stderr, /--task token-cls needs at least 2 labels in field "tags"/);
  writeFileSync(join(work, 'tags.jsonl'), `${JSON.stringify({ tokens: ['a', 'b'], tags: ['X', 'Y'] })}\n${JSON.stringify({ tokens: ['a', 'b'], tags: ['X'] })}\n`);
  const uneven = runCli(['eval', '--task', 'token-cls', '--model', model, '--data', join(work, 'tags.jsonl')]);
  assert.equal(uneven.status, 1);
  assert.match(uneven.stderr, /tags\.jsonl:2: field "tags" has 1 tags for the 2 words of "tokens"/);
  writeFileSync(join(work, 'notes.txt'), 'some text\n');
  const txt = runCli(['train', '--task', 'seq-cls', '--model', model, '--data', join(work, 'notes.txt'), '--output', out]);
  assert.match(txt.stderr, /--data: expected a \.jsonl or \.csv file for --task seq-cls/);
});

test('a missing or unreadable data file is a usage error naming the option', () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-missing-'));
  writeFileSync(join(work, 'cls.jsonl'), `${JSON.stringify({ text: 'good', label: 'a' })}\n${JSON.stringify({ text: 'fine', label: 'b' })}\n`);
  const out = join(work, 'out');
  const missing = runCli(['train', '--task', 'seq-cls', '--model', model, '--data', join(work, 'nope.jsonl'), '--output', out]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^peftjs train: --data: cannot read .*nope\.jsonl: ENOENT/);
  mkdirSync(join(work, 'folder.jsonl'));
  const folder = runCli(['train', '--task', 'seq-cls', '--model', model, '--data', join(work, 'cls.jsonl'), '--validation-data', join(work, 'folder.jsonl'), '--output', out]);
  assert.equal(folder.status, 2);
  assert.match(folder.stderr, /^peftjs train: --validation-data: cannot read .*folder\.jsonl: EISDIR/);
  const evalMissing = runCli(['eval', '--task', 'seq-cls', '--model', model, '--data', join(work, 'nope.jsonl')]);
  assert.equal(evalMissing.status, 2);
  assert.match(evalMissing.stderr, /^peftjs eval: --data: cannot read .*nope\.jsonl/);
});

test('--seed and --validation-size outside their ranges are usage errors naming the option', () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-ranges-'));
  writeFileSync(join(work, 'cls.jsonl'), `${JSON.stringify({ text: 'good', label: 'a' })}\n${JSON.stringify({ text: 'fine', label: 'b' })}\n`);
  const base = ['--task', 'seq-cls', '--model', model, '--data', join(work, 'cls.jsonl')];
  for (const seed of ['-1', '1.5', '1e20']) {
    for (const verb of ['train', 'eval']) {
      const r = runCli([verb, ...base, ...(verb === 'train' ? ['--output', join(work, 'out')] : []), '--seed', seed]);
      assert.equal(r.status, 2, `${verb} --seed ${seed}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--seed: expected a whole number ≥ 0, got ${Number(seed)}`));
    }
  }
  for (const size of ['0', '-3', '2.5']) {
    const r = runCli(['train', ...base, '--output', join(work, 'out'), '--validation-size', size]);
    assert.equal(r.status, 2, `--validation-size ${size}: ${r.stderr}`);
    assert.match(r.stderr, /--validation-size: expected a count of examples \(a whole number ≥ 1\) or a ratio in \(0, 1\)/);
  }
});
