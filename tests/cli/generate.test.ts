// `peftjs generate`: its completions are those of the library's generate() on the same model, prompts
// and options — base model, one adapter, the chosen one of two, merged, batched, chats, files — and
// bad input is refused with the option or file at fault named.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Generator, randn, scope } from '../../src/engine/index.js';
import { generate, type GenerateInputs, type GenerateOptions, type GenerativeModel } from '../../src/generate/index.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM } from '../../src/models/index.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { fixturePath } from '../helpers/paths.js';
import { runMain } from '../helpers/run-main.js';
import { makeTinyLlamaFolder } from '../helpers/tiny-llama.js';

const modelDir = makeTinyLlamaFolder();
const work = mkdtempSync(join(tmpdir(), 'peftjs-generate-'));
const tokenizer = await loadTokenizer(modelDir);
const PROMPTS = ['The quick brown fox', 'Hello, world'];
const NEW_TOKENS = 8;

/** A LoRA adapter on q_proj/v_proj whose B weights are seeded noise, so that it changes the output. */
async function saveAdapter(dir: string, seed: number): Promise<string> {
  const peft = getPeftModel(await AutoModelForCausalLM.fromPretrained(modelDir), new LoraConfig({ taskType: 'CAUSAL_LM', r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }));
  const noise = new Generator(seed);
  for (const [name, p] of peft.namedParameters()) {
    if (name.includes('lora_B')) scope(() => p.data().set(randn(p.shape, { std: 0.5, generator: noise }).data()));
  }
  peft.savePretrained(dir);
  return dir;
}

const adapterA = await saveAdapter(join(work, 'alpha'), 1);
const adapterB = await saveAdapter(join(work, 'beta'), 2);

interface JsonLine {
  prompt: unknown;
  completion: string;
  tokens: number[];
  finishReason: string;
}

async function cliLines(args: readonly string[], model = modelDir): Promise<JsonLine[]> {
  const r = await runMain(['generate', '--model', model, '--max-new-tokens', String(NEW_TOKENS), '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as JsonLine);
}

/** The library's completions, one generate() call per batch of `batchSize` prompts. */
async function libraryLines(model: GenerativeModel, prompts: readonly GenerateInputs[], options: GenerateOptions = {}, batchSize = 1): Promise<Omit<JsonLine, 'prompt'>[]> {
  const lines: Omit<JsonLine, 'prompt'>[] = [];
  for (let i = 0; i < prompts.length; i += batchSize) {
    const r = await generate(model, prompts.slice(i, i + batchSize) as GenerateInputs, { tokenizer, maxNewTokens: NEW_TOKENS, ...options });
    r.tokens.forEach((tokens, b) => lines.push({ completion: r.text![b]!, tokens, finishReason: r.finishReasons[b]! }));
  }
  return lines;
}

const withoutPrompt = (lines: JsonLine[]) => lines.map(({ prompt: _p, ...rest }) => rest);
const promptArgs = PROMPTS.flatMap((p) => ['--prompt', p]);
const base = await AutoModelForCausalLM.fromPretrained(modelDir);
const baseLines = await libraryLines(base, PROMPTS);

test('generate --json: one line per prompt {prompt, completion, tokens, finishReason}, as generate() on the base model', async () => {
  const lines = await cliLines(promptArgs);
  assert.deepEqual(lines.map((l) => Object.keys(l)), PROMPTS.map(() => ['prompt', 'completion', 'tokens', 'finishReason']));
  assert.deepEqual(lines.map((l) => l.prompt), PROMPTS);
  assert.deepEqual(withoutPrompt(lines), baseLines);
  for (const l of lines) {
    assert.ok(l.tokens.length > 0 && l.tokens.length <= NEW_TOKENS && l.tokens.every(Number.isInteger));
    assert.ok(['eos', 'length', 'stop_string'].includes(l.finishReason));
  }
  const batched = await cliLines([...promptArgs, '--batch-size', '2']);
  assert.deepEqual(withoutPrompt(batched), await libraryLines(base, PROMPTS, {}, 2));
});

test('generate --adapter: the adapter as PeftModel.fromPretrained applies it; --merge gives the same tokens', async () => {
  const expected = await libraryLines(await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(modelDir), adapterA), PROMPTS);
  assert.notDeepEqual(expected, baseLines, 'the perturbed adapter changes the output');
  assert.deepEqual(withoutPrompt(await cliLines([...promptArgs, '--adapter', adapterA])), expected);
  assert.deepEqual(withoutPrompt(await cliLines([...promptArgs, '--adapter', adapterA, '--merge'])).map((l) => l.tokens), expected.map((l) => l.tokens));
});

test('generate with two adapters: --adapter-name picks the active one (folder names or name=dir)', async () => {
  const peft = await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(modelDir), adapterB, { adapterName: 'beta' });
  const expected = await libraryLines(peft, PROMPTS);
  assert.notDeepEqual(expected, await libraryLines(await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(modelDir), adapterA), PROMPTS));
  assert.deepEqual(withoutPrompt(await cliLines([...promptArgs, '--adapter', `${adapterA},${adapterB}`, '--adapter-name', 'beta'])), expected);
  assert.deepEqual(withoutPrompt(await cliLines([...promptArgs, '--adapter', `one=${adapterA}`, '--adapter', `two=${adapterB}`, '--adapter-name', 'two'])), expected);
});

test('generate --chat and --prompts files (.txt lines, .jsonl prompts and messages)', async () => {
  const chats = PROMPTS.map((p) => [{ role: 'user', content: p }]);
  const chatLines = await libraryLines(base, chats);
  assert.deepEqual(withoutPrompt(await cliLines([...promptArgs, '--chat'])), chatLines);
  writeFileSync(join(work, 'prompts.txt'), `${PROMPTS[0]}\n\n${PROMPTS[1]}\n`);
  assert.deepEqual(withoutPrompt(await cliLines(['--prompts', join(work, 'prompts.txt')])), baseLines);
  writeFileSync(join(work, 'prompts.jsonl'), `${JSON.stringify({ prompt: PROMPTS[0] })}\n${JSON.stringify({ messages: chats[1] })}\n`);
  const mixed = await cliLines(['--prompts', join(work, 'prompts.jsonl')]);
  assert.deepEqual(mixed.map((l) => l.prompt), [PROMPTS[0], chats[1]]);
  assert.deepEqual(withoutPrompt(mixed), chatLines, 'a file with conversations renders every prompt as a chat');
});

test('generate prints the completions, each after its prompt when there are several; --stream prints the same text', async () => {
  const several = await runMain(['generate', '--model', modelDir, '--max-new-tokens', String(NEW_TOKENS), ...promptArgs]);
  assert.equal(several.status, 0, several.stderr);
  assert.equal(several.stdout, PROMPTS.map((p, i) => `> ${p}\n${baseLines[i]!.completion}\n`).join(''));
  for (const stream of ['--stream', '--no-stream']) {
    const one = await runMain(['generate', '--model', modelDir, '--max-new-tokens', String(NEW_TOKENS), '--prompt', PROMPTS[0]!, stream]);
    assert.equal(one.stdout, `${baseLines[0]!.completion}\n`, stream);
  }
  const streamedBatch = await runMain(['generate', '--model', modelDir, '--max-new-tokens', String(NEW_TOKENS), ...promptArgs, '--stream', '--batch-size', '2']);
  assert.equal(streamedBatch.stdout, several.stdout);
});

test('generate on a seq2seq folder (config.json model_type t5) loads AutoModelForSeq2SeqLM', async () => {
  const t5Dir = mkdtempSync(join(tmpdir(), 'peftjs-t5-'));
  const raw = JSON.parse(readFileSync(fixturePath('models', 't5-seq2seq', 'config.json'), 'utf8')) as Record<string, unknown>;
  AutoModelForSeq2SeqLM.fromConfig({ ...raw, vocab_size: 420 }).savePretrained(t5Dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(modelDir, f), join(t5Dir, f));
  const expected = await libraryLines(await AutoModelForSeq2SeqLM.fromPretrained(t5Dir), PROMPTS);
  assert.deepEqual(withoutPrompt(await cliLines(promptArgs, t5Dir)), expected);
});

test('generate --do-sample --seed: reproducible, as generate() with a Generator of that seed', async () => {
  const sampling = ['--do-sample', '--seed', '7', '--top-k', '20', '--temperature', '1.5'];
  const lines = await cliLines([...promptArgs, ...sampling]);
  assert.deepEqual(withoutPrompt(lines), await libraryLines(base, PROMPTS, { doSample: true, topK: 20, temperature: 1.5, generator: new Generator(7) }));
  assert.deepEqual(await cliLines([...promptArgs, ...sampling]), lines);
});

test('generate: errors name the model folder, the adapter name, the prompt or the option', async () => {
  const run = (args: string[]) => runMain(['generate', ...args]);
  const missing = await run(['--model', join(work, 'no-such-model'), '--prompt', 'Hi']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^peftjs generate: ModelFolderError: .*no-such-model/);
  const unknown = await run(['--model', modelDir, '--prompt', 'Hi', '--adapter', adapterA, '--adapter-name', 'gamma']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /--adapter-name: no adapter named "gamma" \(adapters: alpha\)/);
  const empty = await run(['--model', modelDir, '--prompt', 'Hi', '--prompt', '']);
  assert.equal(empty.status, 2);
  assert.match(empty.stderr, /--prompt: prompt 2 is empty/);
  writeFileSync(join(work, 'empty.jsonl'), `${JSON.stringify({ prompt: 'Hi' })}\n${JSON.stringify({ prompt: '' })}\n`);
  const emptyInFile = await run(['--model', modelDir, '--prompts', join(work, 'empty.jsonl')]);
  assert.equal(emptyInFile.status, 1);
  assert.match(emptyInFile.stderr, /DataError: .*empty\.jsonl:2: field "prompt" is empty/);
  const none = await run(['--model', modelDir]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /give a prompt: --prompt <text> or --prompts <file>/);
  const topP = await run(['--model', modelDir, '--prompt', 'Hi', '--top-p', '1.5']);
  assert.equal(topP.status, 2);
  assert.match(topP.stderr, /--top-p: .*'topP' must be .*\[0, 1\], got 1\.5/);
  for (const seed of ['-1', '1.5', '1e30']) {
    const bad = await run(['--model', join(work, 'no-such-model'), '--prompt', 'Hi', '--do-sample', '--seed', seed]);
    assert.equal(bad.status, 2, 'refused before the model is loaded');
    assert.ok(bad.stderr.includes(`--seed: expected a whole number ≥ 0, got ${Number(seed)}`), bad.stderr);
  }
  const together = await run(['--model', modelDir, '--prompt', 'Hi', '--json', '--stream']);
  assert.equal(together.status, 2);
  assert.match(together.stderr, /--stream and --json cannot be combined/);
  const merge = await run(['--model', modelDir, '--prompt', 'Hi', '--merge']);
  assert.match(merge.stderr, /--merge needs --adapter/);
});
