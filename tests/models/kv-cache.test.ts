// Preallocated KV caches: attention over the filled part of a larger buffer (keyLength), writes in
// place (assignSlice, appendKV), and GPT-2 decoding step by step with a preallocated cache, a
// concatenated one and none giving the same logits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignSlice, fromArray, noGrad, randn, scaledDotProductAttention, slice, type Tensor } from '../../src/engine/index.js';
import { Generator } from '../../src/engine/random.js';
import { GPT2LMHeadModel, type LayerKV } from '../../src/models/index.js';
import { appendKV, cachedLength, preallocateKV } from '../../src/models/shared/attention.js';
import { assertTensorMatches, modelFixtureDir } from '../helpers/model-fixtures.js';

const gen = new Generator(5);

test('attention with keyLength reads the first positions of [B, H, capacity, D] buffers', () => {
  noGrad(() => {
    const [q, k, v] = [randn([2, 4, 3, 8], { generator: gen }), randn([2, 2, 10, 8], { generator: gen }), randn([2, 2, 10, 8], { generator: gen })];
    const mask = fromArray(Float32Array.from({ length: 12 }, (_, i) => (i === 6 ? -1e30 : 0)), [2, 1, 1, 6]);
    for (const options of [{ causal: true }, { attnMask: mask }]) {
      const expected = scaledDotProductAttention(q, slice(k, 2, 0, 6), slice(v, 2, 0, 6), options);
      assertTensorMatches(scaledDotProductAttention(q, k, v, { ...options, keyLength: 6 }), expected, { atol: 1e-6, rtol: 1e-6 }, JSON.stringify(Object.keys(options)));
    }
    assert.throws(() => scaledDotProductAttention(q, k, v, { keyLength: 11 }), /keyLength.*\[0, 10\]/);
  });
  const k = randn([1, 1, 4, 2], { generator: gen }).setRequiresGrad();
  assert.throws(() => scaledDotProductAttention(randn([1, 1, 1, 2]), k, k, { keyLength: 2 }), /is for inference/);
});

test('assignSlice writes in place and checks where', () => {
  const dst = fromArray(new Float32Array(12), [1, 2, 3, 2]);
  noGrad(() => assignSlice(dst, fromArray([1, 2, 3, 4], [1, 2, 1, 2]), 2, 1));
  assert.deepEqual([...dst.toArray()], [0, 0, 1, 2, 0, 0, 0, 0, 3, 4, 0, 0]);
  assert.throws(() => assignSlice(dst, fromArray([1, 2, 3, 4], [1, 2, 1, 2]), 2, 3), /'start'/);
  assert.throws(() => assignSlice(dst, fromArray([1, 2], [1, 1, 1, 2]), 2, 0), /does not fit dst/);
});

test('appendKV fills a preallocated cache in place and refuses to overflow it', () => {
  noGrad(() => {
    const first = { key: randn([1, 2, 3, 4], { generator: gen }), value: randn([1, 2, 3, 4], { generator: gen }) };
    const [cache] = preallocateKV([first], 5) as [LayerKV];
    assert.deepEqual([cache.key.shape, cache.length], [[1, 2, 5, 4], 3]);
    const next = () => [randn([1, 2, 2, 4], { generator: new Generator(9) }), randn([1, 2, 2, 4], { generator: new Generator(10) })] as const;
    const grown = appendKV(cache, ...next());
    assert.equal(grown.key, cache.key, 'the same buffer');
    assert.equal(cachedLength(grown), 5);
    const concatenated = appendKV(first, ...next());
    assertTensorMatches(grown.key, concatenated.key, { atol: 0, rtol: 0 }, 'keys');
    assert.throws(() => appendKV(grown, ...next()), /preallocated cache of 5 positions; 7 are needed/);
  });
});

test('GPT-2 decoding: preallocated cache, concatenated cache and full recompute agree', async () => {
  const model = await GPT2LMHeadModel.fromPretrained(modelFixtureDir('gpt2-lm'));
  const ids = [[5, 9, 13, 40], [0, 0, 7, 3]];
  const mask = [[1, 1, 1, 1], [0, 0, 1, 1]];
  const next = [[21, 22, 23], [31, 32, 33]];
  noGrad(() => {
    const tensor = (rows: number[][]) => fromArray(new Int32Array(rows.flat()), [rows.length, rows[0]!.length]);
    const positions = (m: number[][]) => m.map((row) => row.map((_, i) => Math.max(row.slice(0, i + 1).reduce((a, b) => a + b, 0) - 1, 0)));
    const run = (cache: 'preallocated' | 'concatenated'): Tensor[] => {
      const out = model.forward({ inputIds: tensor(ids), attentionMask: tensor(mask), positionIds: tensor(positions(mask)), useCache: true });
      let past = cache === 'preallocated' ? preallocateKV(out.pastKeyValues!, 7) : out.pastKeyValues!;
      const logits: Tensor[] = [];
      for (let s = 0; s < 3; s++) {
        const m = mask.map((row) => [...row, ...new Array<number>(s + 1).fill(1)]);
        const step = model.forward({
          inputIds: tensor(next.map((r) => [r[s]!])),
          attentionMask: tensor(m),
          positionIds: tensor(positions(m).map((r) => [r[r.length - 1]!])),
          pastKeyValues: past,
          useCache: true,
        });
        past = step.pastKeyValues!;
        logits.push(step.logits!);
      }
      return logits;
    };
    const full = (s: number): Tensor => {
      const all = ids.map((r, b) => [...r, ...next[b]!.slice(0, s + 1)]);
      const m = mask.map((row) => [...row, ...new Array<number>(s + 1).fill(1)]);
      const logits = model.forward({ inputIds: tensor(all), attentionMask: tensor(m), positionIds: tensor(positions(m)) }).logits!;
      return slice(logits, 1, all[0]!.length - 1);
    };
    const [preallocated, concatenated] = [run('preallocated'), run('concatenated')];
    for (let s = 0; s < 3; s++) {
      assertTensorMatches(preallocated[s]!, concatenated[s]!, { atol: 1e-6, rtol: 1e-6 }, `step ${s}: preallocated vs concatenated`);
      assertTensorMatches(preallocated[s]!, full(s), { atol: 1e-5, rtol: 1e-5 }, `step ${s}: cached vs full recompute`);
    }
  });
});
