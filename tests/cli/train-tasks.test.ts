// Acceptance of `peftjs train` for each task example in examples/configs (on small slices of the
// bundled datasets, a few steps): held-out loss measured by `peftjs eval` drops from the untrained
// adapter's, every base parameter is unchanged, and only LoRA and modules_to_save weights train.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyT5 } from '../../examples/make-tiny-t5.js';
import { evalVerb, runEval } from '../../src/cli/eval.js';
import { mergeVerb, runMerge } from '../../src/cli/merge.js';
import { prepareTraining } from '../../src/cli/train-setup.js';
import { trainFromOptions, trainVerb } from '../../src/cli/train.js';
import { SafetensorsFile } from '../../src/io/safetensors-reader.js';
import type { Tensor } from '../../src/engine/index.js';
import { textSink, verbOptions } from '../helpers/cli-in-process.js';
import { repoRoot } from '../helpers/paths.js';

const TINY_LLAMA = join(repoRoot, 'models', 'tiny-llama');

/** Every `step`-th record of a bundled data file (from record `offset`), written to `dir`. */
function slice(dir: string, file: string, step: number, offset = step - 1): string {
  const lines = readFileSync(join(repoRoot, 'data', file), 'utf8').trim().split('\n').filter((_, i) => i % step === offset);
  const path = join(dir, `${step}-${offset}-${file.replaceAll('/', '-')}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function bytesOf(t: Tensor): Buffer {
  const a = t.toArray();
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

async function evalJson(argv: readonly string[]): Promise<Record<string, number>> {
  const out = textSink();
  await runEval(verbOptions(evalVerb, [...argv, '--json']), [], out);
  return JSON.parse(out.text()) as Record<string, number>;
}

interface TaskCase {
  config: string | null;
  task: string;
  model: string;
  train: string;
  validation: string;
  /** Options of both train and eval (lengths). */
  shared: string[];
  trainOptions: string[];
  head: string | null;
}

async function checkTaskExample(c: TaskCase, work: string): Promise<{ before: Record<string, number>; after: Record<string, number> }> {
  const output = join(work, 'out');
  const opts = verbOptions(trainVerb, [
    ...(c.config === null ? ['--task', c.task] : ['--config', join(repoRoot, 'examples', 'configs', c.config)]), '--model', c.model, '--data', c.train, '--validation-data', c.validation, '--output', output,
    '--no-progress', ...c.shared, ...c.trainOptions,
  ]);
  // The untrained adapter: the same seed gives the same new head and LoRA weights as the run starts from.
  const untrained = await prepareTraining(opts);
  const beforeDir = join(work, 'before');
  mkdirSync(beforeDir);
  untrained.saveAdapter(beforeDir);
  const { peft, result } = await trainFromOptions(opts, textSink());
  assert.equal(result.interrupted, false);

  const initial = new Map(untrained.peft.namedParameters());
  const trained = [...peft.namedParameters()];
  assert.equal(trained.length, initial.size);
  const changed: string[] = [];
  for (const [name, p] of trained) {
    const same = bytesOf(p).equals(bytesOf(initial.get(name)!));
    if (/\.lora_[AB]\.|\.modules_to_save\./.test(name)) {
      if (!same) changed.push(name);
    } else {
      assert.ok(same, `base parameter ${name} changed in training`);
    }
  }
  assert.ok(changed.some((n) => n.includes('.lora_B.')), 'LoRA weights trained');
  if (c.head !== null) assert.ok(changed.some((n) => n.includes(`.${c.head}.modules_to_save.`)), `the ${c.head} head trained`);

  const config = JSON.parse(readFileSync(join(output, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  const st = SafetensorsFile.open(join(output, 'adapter_model.safetensors'));
  const keys = st.keys();
  st.close();
  for (const k of keys) assert.match(k, /\.lora_[AB]\.weight$|^base_model\.model\.(score|qa_outputs)\.(weight|bias)$/, k);
  if (c.head !== null) {
    assert.ok((config['modules_to_save'] as string[]).includes(c.head), `modules_to_save ${JSON.stringify(config['modules_to_save'])} has ${c.head}`);
    assert.ok(keys.some((k) => k === `base_model.model.${c.head}.weight`), `the ${c.head} head is saved under PEFT's key`);
  }

  const evalArgs = ['--task', c.task, '--model', c.model, '--data', c.validation, ...c.shared];
  const before = await evalJson([...evalArgs, '--adapter', beforeDir]);
  const after = await evalJson([...evalArgs, '--adapter', output]);
  assert.ok(after['eval_loss']! < before['eval_loss']!, `held-out loss ${before['eval_loss']} → ${after['eval_loss']}`);
  return { before, after };
}

function withWork(name: string, fn: (work: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const work = mkdtempSync(join(tmpdir(), `peftjs-${name}-`));
    try {
      await fn(work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };
}

test('causal-lm on prompt/completion records: held-out loss and perplexity drop', withWork('causal-lm', async (work) => {
  const { before, after } = await checkTaskExample({
    config: null, task: 'causal-lm', model: TINY_LLAMA, head: null,
    train: slice(work, 'fortunes/instructions.jsonl', 12), validation: slice(work, 'fortunes/instructions.jsonl', 24, 5),
    shared: ['--block-size', '64'], trainOptions: ['--max-steps', '8', '--learning-rate', '3e-3', '--batch-size', '8'],
  }, work);
  assert.ok(Math.abs(after['eval_perplexity']! - Math.exp(after['eval_loss']!)) < 1e-9 * after['eval_perplexity']!);
  assert.ok(after['eval_perplexity']! < before['eval_perplexity']!);
}));

test('spam-seq-cls example: held-out loss drops; labels.json gives the head its labels', withWork('seq-cls', async (work) => {
  const { after } = await checkTaskExample({
    config: 'spam-seq-cls.yaml', task: 'seq-cls', model: TINY_LLAMA, head: 'score',
    train: slice(work, 'spam/train.jsonl', 4), validation: slice(work, 'spam/validation.jsonl', 2),
    shared: ['--max-length', '64'], trainOptions: ['--max-steps', '25', '--learning-rate', '3e-3'],
  }, work);
  assert.deepEqual(JSON.parse(readFileSync(join(work, 'out', 'labels.json'), 'utf8')), { num_labels: 2, id2label: { 0: 'ham', 1: 'spam' }, label2id: { ham: 0, spam: 1 } });
  // Merging reads labels.json to build the head; the merged folder's config.json then carries the labels.
  const merged = join(work, 'merged');
  await runMerge(verbOptions(mergeVerb, ['--model', TINY_LLAMA, '--adapter', join(work, 'out'), '--output', merged]), [], textSink());
  const alone = await evalJson(['--task', 'seq-cls', '--model', merged, '--data', join(work, '2-1-spam-validation.jsonl'), '--max-length', '64']);
  assert.ok(Math.abs(alone['eval_loss']! - after['eval_loss']!) < 1e-4, `merged ${alone['eval_loss']} vs adapter ${after['eval_loss']}`);
  assert.equal(alone['eval_accuracy'], after['eval_accuracy']);
}));

test('pos-token-cls example: held-out loss drops; tags scored on each word\'s first token', withWork('token-cls', async (work) => {
  const train = slice(work, 'pos-brown/train.jsonl', 10);
  const { before, after } = await checkTaskExample({
    config: 'pos-token-cls.yaml', task: 'token-cls', model: TINY_LLAMA, head: 'score',
    train, validation: slice(work, 'pos-brown/validation.jsonl', 5),
    shared: ['--max-length', '64'], trainOptions: ['--max-steps', '10', '--learning-rate', '5e-3'],
  }, work);
  const tags = [...new Set(readFileSync(train, 'utf8').trim().split('\n').flatMap((l) => (JSON.parse(l) as { tags: string[] }).tags))];
  const saved = JSON.parse(readFileSync(join(work, 'out', 'labels.json'), 'utf8')) as { num_labels: number; id2label: Record<string, string> };
  assert.equal(saved.num_labels, tags.length);
  assert.deepEqual(Object.values(saved.id2label).sort(), tags.sort());
  assert.ok(after['eval_accuracy']! > before['eval_accuracy']!, `tagging accuracy ${before['eval_accuracy']} → ${after['eval_accuracy']}`);
}));

test('wordnet-qa example: held-out loss drops; answers scored by SQuAD exact match and F1', withWork('qa', async (work) => {
  const { after } = await checkTaskExample({
    config: 'wordnet-qa.yaml', task: 'qa', model: TINY_LLAMA, head: 'qa_outputs',
    train: slice(work, 'qa-wordnet/train.jsonl', 10), validation: slice(work, 'qa-wordnet/validation.jsonl', 5),
    shared: ['--max-length', '64', '--doc-stride', '16'], trainOptions: ['--max-steps', '10', '--learning-rate', '5e-3'],
  }, work);
  for (const k of ['eval_exact_match', 'eval_f1']) assert.ok(after[k]! >= 0 && after[k]! <= 100, `${k} ${after[k]} is a percentage`);
}));

test('de-translation-seq2seq example on a made tiny T5: held-out loss drops', withWork('seq2seq', async (work) => {
  const model = join(work, 'tiny-t5');
  makeTinyT5(model, TINY_LLAMA);
  const { after } = await checkTaskExample({
    config: 'de-translation-seq2seq.yaml', task: 'seq2seq', model, head: null,
    train: slice(work, 'translation-de/train.jsonl', 6), validation: slice(work, 'translation-de/validation.jsonl', 2),
    shared: ['--max-length', '32'], trainOptions: ['--max-steps', '20', '--learning-rate', '1e-2'],
  }, work);
  assert.ok(Number.isFinite(after['eval_loss']));
}));
