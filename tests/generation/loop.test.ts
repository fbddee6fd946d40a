// The decoding loop over the fixture's bigram LM, against the sequences transformers' generate
// produced (tools/fixtures/generation_loop.py): greedy search, warpers that make sampling
// deterministic, left padding, EOS and padding of finished rows, lengths, and the model's
// generation config under call options. Then what the step function receives, seeded sampling,
// and errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, Generator } from '../../src/engine/index.js';
import {
  decode,
  decodeStream,
  GenerationConfigError,
  GenerationError,
  readGenerationConfig,
  type GenerationOptions,
  type StepInput,
} from '../../src/generate/index.js';
import { bigramStep, generationFixture } from './helpers.js';

interface BigramCase {
  name: string;
  generation_config: Record<string, unknown>;
  input_ids: number[][];
  attention_mask: number[][] | null;
  sequences: number[][];
}

interface MergeCase {
  name: string;
  model_generation_config: Record<string, unknown>;
  kwargs: Record<string, unknown>;
  sequences: number[][];
}

const { bigram } = generationFixture<{ bigram: { vocab: number; max_positions: number; cases: BigramCase[]; merge_cases: MergeCase[] } }>('loop.json');
const step = () => bigramStep(bigram.vocab, bigram.max_positions);
const PROMPT = bigram.cases[0]!;

for (const c of bigram.cases) {
  test(`bigram LM: ${c.name}`, async () => {
    const prompt = { inputIds: c.input_ids, ...(c.attention_mask && { attentionMask: c.attention_mask }) };
    const out = await decode(step(), prompt, { generationConfig: readGenerationConfig(c.generation_config), generator: new Generator(0) });
    assert.deepEqual(out.sequences, c.sequences);
  });
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());

for (const c of bigram.merge_cases) {
  test(`bigram LM, model defaults under call options: ${c.name}`, async () => {
    const options = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camel(k), v])) as GenerationOptions;
    const prompt = { inputIds: PROMPT.input_ids, attentionMask: PROMPT.attention_mask! };
    const out = await decode(step(), prompt, { ...options, generationConfig: readGenerationConfig(c.model_generation_config) });
    assert.deepEqual(out.sequences, c.sequences);
  });
}

test('tokens stop at EOS, finished rows are padded in sequences, reasons per row', async () => {
  const c = bigram.cases[0]!;
  const eos = c.generation_config.eos_token_id as number;
  const out = await decode(step(), { inputIds: c.input_ids, attentionMask: c.attention_mask! }, { generationConfig: readGenerationConfig(c.generation_config) });
  const promptLength = c.input_ids[0]!.length;
  out.tokens.forEach((tokens, b) => {
    const generated = c.sequences[b]!.slice(promptLength);
    const end = generated.indexOf(eos);
    assert.deepEqual(tokens, end < 0 ? generated : generated.slice(0, end + 1), `row ${b}`);
    assert.equal(out.finishReasons[b], end < 0 ? 'length' : 'eos', `row ${b}`);
  });
  assert.equal(out.text, null, 'no tokenizer, no text');
});

test('the step function gets the prompt, then one token per row, a growing mask and positions of real tokens', async () => {
  const seen: StepInput[] = [];
  const prompt = { inputIds: [[4, 9, 17], [0, 8, 30]], attentionMask: [[1, 1, 1], [0, 1, 1]] };
  const out = await decode(bigramStep(bigram.vocab, bigram.max_positions, seen), prompt, { maxNewTokens: 3, padTokenId: 0 });
  assert.equal(seen.length, 3, 'the last token needs no forward pass');
  assert.deepEqual(seen.map((s) => [s.step, s.inputLength, s.pastLength]), [[0, 3, 0], [1, 1, 3], [2, 1, 4]]);
  assert.deepEqual([...seen[0]!.inputIds], [4, 9, 17, 0, 8, 30]);
  assert.deepEqual([...seen[0]!.attentionMask], [1, 1, 1, 0, 1, 1]);
  assert.deepEqual([...seen[0]!.positionIds], [0, 1, 2, 0, 0, 1]);
  assert.deepEqual([...seen[1]!.inputIds], [out.sequences[0]![3]!, out.sequences[1]![3]!]);
  assert.deepEqual([...seen[1]!.positionIds], [3, 2]);
  assert.deepEqual([...seen[2]!.attentionMask], [1, 1, 1, 1, 1, 0, 1, 1, 1, 1]);
  assert.deepEqual([...seen[2]!.positionIds], [4, 3]);
});

test('sampling: the same seed gives the same sequences, rows draw independently', async () => {
  const prompt = { inputIds: [[4, 9, 17], [4, 9, 17], [4, 9, 17]] };
  const options = { doSample: true, topK: 0, temperature: 3, maxNewTokens: 12 };
  const run = (seed: number) => decode(step(), prompt, { ...options, generator: new Generator(seed) });
  const a = await run(42);
  assert.deepEqual((await run(42)).sequences, a.sequences);
  assert.notDeepEqual((await run(43)).sequences, a.sequences);
  assert.equal(new Set(a.tokens.map((t) => t.join())).size, 3, 'identical prompts, different samples');
});

test('the stream yields each step and returns the result', async () => {
  const c = bigram.cases[0]!;
  const stream = decodeStream(step(), { inputIds: c.input_ids, attentionMask: c.attention_mask! }, { generationConfig: readGenerationConfig(c.generation_config) });
  const steps: number[][][] = [];
  let r = await stream.next();
  while (!r.done) {
    assert.equal(r.value.text, null);
    steps.push(r.value.tokenIds);
    r = await stream.next();
  }
  const result = r.value;
  assert.equal(steps.length, result.sequences[0]!.length - c.input_ids[0]!.length);
  result.tokens.forEach((tokens, b) => assert.deepEqual(steps.flatMap((s) => s[b]!), tokens, `row ${b}`));
  assert.ok(steps.some((s) => s.some((row) => row.length === 0)), 'finished rows get no tokens');
});

test('bad prompts, step outputs and lengths are typed errors', async () => {
  const ok = { inputIds: [[1, 2]] };
  const rejects = (p: Promise<unknown>, type: new (...a: never[]) => Error, pattern: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof type && pattern.test(e.message));
  await rejects(decode(step(), { inputIds: [[1, 2], [3]] }), GenerationError, /inputIds rows must all have one length/);
  await rejects(decode(step(), { inputIds: [] }), GenerationError, /inputIds must be a non-empty array/);
  await rejects(decode(step(), { inputIds: [[1, -2]] }), GenerationError, /inputIds\[0\]\[1\] must be token ids/);
  await rejects(decode(step(), { inputIds: [[1, 2]], attentionMask: [[1]] }), GenerationError, /attentionMask rows must all have the prompt's length, 2; row 0 has 1/);
  await rejects(decode(step(), { inputIds: [[1, 2]], attentionMask: [[1, 1], [1, 1]] }), GenerationError, /attentionMask must have 1 rows/);
  await rejects(decode(step(), ok, { maxLength: 2 }), GenerationConfigError, /'maxLength'/);
  await rejects(decode(step(), ok, { stopStrings: ['x'] }), GenerationConfigError, /'stopStrings' need a tokenizer/);
  await rejects(decode(() => fromArray([1, 2], [2]), ok), GenerationError, /float32 logits of shape \[1, vocab\]/);
  let calls = 0;
  const shrinking = () => fromArray(new Float32Array(calls++ === 0 ? 4 : 3), [1, calls === 1 ? 4 : 3]);
  await rejects(decode(shrinking, ok), GenerationError, /shape \[1, 4\], got float32 \[1, 3\]/);
});
