// Logits processors against transformers' outputs on the same logits and token ids
// (tools/fixtures/generation_processors.py): single processors, the lists generate builds from a
// generation config (their order), and top-k/top-p on rows of GPT-2's vocabulary size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, type Tensor } from '../../src/engine/index.js';
import {
  applyProcessors,
  GenerationConfigError,
  logitsProcessorsFor,
  minLengthProcessor,
  noRepeatNgramProcessor,
  readGenerationConfig,
  repetitionPenaltyProcessor,
  resolveGenerationConfig,
  temperatureWarper,
  TokenHistory,
  topKWarper,
  topPWarper,
  type LogitsProcessor,
} from '../../src/generate/index.js';
import { float32s, generationFixture, hashedLogits } from './helpers.js';

type Attrs = Record<string, number | number[]>;

interface Fixture {
  logits: { shape: [number, number]; data: (number | string)[] };
  input_ids: number[][];
  single: { name: string; attrs: Attrs; output: (number | string)[] }[];
  lists: { generation_config: Record<string, unknown>; prompt_length: number; processors: string[]; output: (number | string)[] }[];
  large: { vocab: number; rows: number; offset: number; cases: { attrs: Attrs; kept: number[][] }[] };
}

const fx = generationFixture<Fixture>('processors.json');
const [BATCH, VOCAB] = fx.logits.shape;

function processorsFor(attrs: Attrs): LogitsProcessor[] {
  const n = (key: string) => attrs[key] as number;
  const eos = attrs.eos_token_id as number | number[];
  const list: LogitsProcessor[] = [];
  if ('repetition_penalty' in attrs) list.push(repetitionPenaltyProcessor(n('repetition_penalty')));
  if ('no_repeat_ngram_size' in attrs) list.push(noRepeatNgramProcessor(n('no_repeat_ngram_size')));
  if ('min_new_tokens' in attrs) list.push(minLengthProcessor(n('prompt_length') + n('min_new_tokens'), eos));
  if ('min_length' in attrs) list.push(minLengthProcessor(n('min_length'), eos));
  if ('temperature' in attrs) list.push(temperatureWarper(n('temperature')));
  if ('top_k' in attrs) list.push(topKWarper(n('top_k')));
  if ('top_p' in attrs) list.push(topPWarper(n('top_p')));
  return list;
}

function run(processors: LogitsProcessor[], logits: Float32Array, rows: number, vocab: number, ids = fx.input_ids): Float32Array {
  const scores: Tensor = fromArray(logits, [rows, vocab]);
  applyProcessors(processors, scores, TokenHistory.from(ids));
  const out = scores.toArray() as Float32Array;
  scores.dispose();
  return out;
}

/**
 * Exact equality, except that where equal scores straddle a top-p cut (PyTorch's unstable sort
 * picks among them arbitrarily) only the number of them kept must match.
 */
function assertSameScores(actual: Float32Array, expected: Float32Array, vocab: number, label: string, topP: boolean): void {
  for (let r = 0; r < actual.length / vocab; r++) {
    const a = actual.subarray(r * vocab, (r + 1) * vocab);
    const e = expected.subarray(r * vocab, (r + 1) * vocab);
    const keptA = a.filter(Number.isFinite).length;
    const keptE = e.filter(Number.isFinite).length;
    assert.equal(keptA, keptE, `${label}: row ${r} keeps ${keptA} tokens, transformers ${keptE}`);
    const cut = Math.min(...e.filter(Number.isFinite));
    for (let i = 0; i < vocab; i++) {
      if (Object.is(a[i], e[i])) continue;
      const tiedAtCut = topP && (a[i] === cut || e[i] === cut);
      assert.ok(tiedAtCut, `${label}: row ${r} token ${i} is ${a[i]}, transformers ${e[i]}`);
    }
  }
}

const logits = float32s(fx.logits.data);

for (const c of fx.single) {
  test(`processor: ${c.name}`, () => {
    const out = run(processorsFor(c.attrs), logits, BATCH, VOCAB);
    assertSameScores(out, float32s(c.output), VOCAB, c.name, 'top_p' in c.attrs);
  });
}

const TRANSFORMERS_NAMES: Record<string, string> = {
  RepetitionPenaltyLogitsProcessor: 'repetitionPenalty',
  NoRepeatNGramLogitsProcessor: 'noRepeatNgram',
  MinLengthLogitsProcessor: 'minLength',
  MinNewTokensLengthLogitsProcessor: 'minLength',
  TemperatureLogitsWarper: 'temperature',
  TopKLogitsWarper: 'topK',
  TopPLogitsWarper: 'topP',
};

for (const c of fx.lists) {
  const label = JSON.stringify(c.generation_config);
  test(`processor list from generation config ${label}`, () => {
    const config = resolveGenerationConfig({}, readGenerationConfig(c.generation_config));
    const processors = logitsProcessorsFor(config, c.prompt_length);
    assert.deepEqual(processors.map((p) => p.name), c.processors.map((name) => TRANSFORMERS_NAMES[name]), `${label}: order`);
    const out = run(processors, logits, BATCH, VOCAB);
    assertSameScores(out, float32s(c.output), VOCAB, label, 'top_p' in c.generation_config);
  });
}

for (const c of fx.large.cases) {
  test(`GPT-2 sized rows: ${JSON.stringify(c.attrs)} keeps transformers' tokens`, () => {
    const { rows, vocab, offset } = fx.large;
    const input = hashedLogits(rows, vocab, offset);
    const out = run(processorsFor(c.attrs), input.slice(), rows, vocab, Array.from({ length: rows }, () => []));
    // Kept tokens hold their logits divided by the temperature (float32), as checked above.
    const t = Math.fround((c.attrs.temperature as number | undefined) ?? 1);
    const expected = new Float32Array(rows * vocab).fill(-Infinity);
    c.kept.forEach((ids, r) => ids.forEach((i) => (expected[r * vocab + i] = input[r * vocab + i]! / t)));
    assertSameScores(out, expected, vocab, JSON.stringify(c.attrs), 'top_p' in c.attrs);
  });
}

test('top-p keeps the lower token ids where equal scores straddle the cut', () => {
  // Four scores of probability 0.25: top_p 0.5 removes the two whose cumulative share (from the
  // least likely) stays <= 0.5, and those are the higher ids.
  const out = run([topPWarper(0.5)], Float32Array.from([0, 0, 0, 0]), 1, 4, [[]]);
  assert.deepEqual([...out].map(Number.isFinite), [true, true, false, false]);
  const greedyLike = run([topPWarper(0)], Float32Array.from([1, 3, 3, 2]), 1, 4, [[]]);
  assert.deepEqual([...greedyLike].map(Number.isFinite), [false, true, false, false], 'top_p 0 keeps the first maximum, as argmax picks it');
});

test('processors leave the rows they do not concern and ids beyond the vocabulary alone', () => {
  const row = Float32Array.from([1, -1, 2]);
  const out = run([repetitionPenaltyProcessor(2), noRepeatNgramProcessor(1)], row, 1, 3, [[7, 9]]);
  assert.deepEqual([...out], [1, -1, 2]);
});

test('processor arguments are checked and named', () => {
  const cases: [() => unknown, string][] = [
    [() => repetitionPenaltyProcessor(0), 'penalty'],
    [() => noRepeatNgramProcessor(1.5), 'size'],
    [() => minLengthProcessor(-1, 2), 'minLength'],
    [() => minLengthProcessor(3, []), 'eosTokenIds'],
    [() => temperatureWarper(0), 'temperature'],
    [() => topKWarper(0), 'topK'],
    [() => topPWarper(1.5), 'topP'],
  ];
  for (const [make, option] of cases) {
    assert.throws(make, (e: unknown) => e instanceof GenerationConfigError && e.option === option && e.message.includes(`'${option}'`), option);
  }
  const scores = fromArray([1, 2, 3], [1, 3]);
  assert.throws(() => topKWarper(1).process(scores, TokenHistory.from([[0], [1]])), /scores.*\[2, vocab\]/);
  scores.dispose();
});

test('TokenHistory grows its rows as tokens are appended, up to its capacity', () => {
  const history = TokenHistory.from([[1, 2], [3, 4]], 1e12);
  for (let i = 0; i < 200; i++) history.append(Int32Array.of(10 + i, 20 + i));
  assert.deepEqual(history.toRows(), [[1, 2, ...Array.from({ length: 200 }, (_, i) => 10 + i)], [3, 4, ...Array.from({ length: 200 }, (_, i) => 20 + i)]]);
  const full = TokenHistory.from([[1]], 3);
  full.append(Int32Array.of(2));
  full.append(Int32Array.of(3));
  assert.throws(() => full.append(Int32Array.of(4)), /full \(capacity 3 tokens per row\)/);
});
