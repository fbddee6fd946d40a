import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromArray, scope, ShapeError, slice, type Tensor } from '../../src/engine/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/index.js';
import { StateDictError } from '../../src/nn/index.js';
import {
  AutoModelForSeq2SeqLM,
  ModelConfigError,
  relativePositionBucket,
  T5Config,
  T5EncoderModel,
  T5ForConditionalGeneration,
  T5ForQuestionAnswering,
  T5ForSequenceClassification,
  T5ForTokenClassification,
  type PreTrainedModel,
  type RawConfig,
  type T5LayerCache,
} from '../../src/models/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { fixturePath } from '../helpers/paths.js';
import { loadModelIO, modelFixtureDir } from '../helpers/model-fixtures.js';
import { makeTempDir } from '../helpers/temp.js';

const BASE: RawConfig = { model_type: 't5', vocab_size: 96, d_model: 32, d_kv: 8, d_ff: 64, num_layers: 2, num_heads: 4 };

function configError(raw: RawConfig, pattern: RegExp): void {
  assert.throws(() => new T5Config(raw), (e: Error) => e instanceof ModelConfigError && pattern.test(e.message), `expected ${pattern}`);
}

test('relative position buckets match transformers', () => {
  const tables = JSON.parse(readFileSync(fixturePath('models', 't5-buckets.json'), 'utf8')) as {
    bidirectional: boolean; num_buckets: number; max_distance: number; relative_start: number; buckets: number[];
  }[];
  for (const t of tables) {
    const ours = t.buckets.map((_, i) => relativePositionBucket(t.relative_start + i, t.bidirectional, t.num_buckets, t.max_distance));
    assert.deepEqual(ours, t.buckets, `bidirectional=${t.bidirectional} buckets=${t.num_buckets} max=${t.max_distance}`);
  }
});

test('config: defaults, feed-forward forms, scaling of decoder outputs', () => {
  const c = new T5Config(BASE);
  assert.deepEqual([c.numDecoderLayers, c.relativeAttentionNumBuckets, c.relativeAttentionMaxDistance, c.padTokenId, c.eosTokenIds], [2, 32, 128, 0, [1]]);
  assert.deepEqual([c.isGatedAct, c.denseActFn, c.tieWordEmbeddings, c.scaleDecoderOutputs], [false, 'relu', true, true]);
  const v11 = new T5Config({ ...BASE, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false, num_decoder_layers: 3 });
  assert.deepEqual([v11.isGatedAct, v11.denseActFn, v11.tieWordEmbeddings, v11.scaleDecoderOutputs, v11.numDecoderLayers], [true, 'gelu_new', false, false, 3]);
  // transformers 5 writes tie_word_embeddings: true with scale_decoder_outputs: false for such models.
  const saved = new T5Config({ ...BASE, feed_forward_proj: 'gated-silu', tie_word_embeddings: true, scale_decoder_outputs: false });
  assert.deepEqual([saved.denseActFn, saved.tieWordEmbeddings, saved.scaleDecoderOutputs], ['silu', true, false]);
});

test('bad configs raise ModelConfigError naming the field', () => {
  const { d_model: _d, ...noModel } = BASE;
  configError(noModel, /missing required field "d_model"/);
  configError({ ...BASE, num_heads: 0 }, /"num_heads" must be a positive integer/);
  configError({ ...BASE, feed_forward_proj: 'gated-gelu-new' }, /"feed_forward_proj" must be "\{ACT_FN\}" or "gated-\{ACT_FN\}"/);
  configError({ ...BASE, feed_forward_proj: 'dense-relu' }, /"feed_forward_proj"/);
  configError({ ...BASE, feed_forward_proj: 'gated-swoosh' }, /"feed_forward_proj" "swoosh" is not supported/);
  configError({ ...BASE, model_type: 'bart' }, /"model_type" must be "t5"/);
  configError({ ...BASE, d_ff: -64 }, /"d_ff" must be a positive integer, got -64/);
  configError({ ...BASE, layer_norm_epsilon: -1e-6 }, /^config\.json: "layer_norm_epsilon" must be a non-negative number, got -0\.000001$/);
});

test('labels become decoder inputs: shifted right after decoder_start_token_id, -100 → pad', () => {
  const model = T5ForConditionalGeneration.fromConfig({ ...BASE, decoder_start_token_id: 7, pad_token_id: 3 });
  scope(() => {
    const shifted = model.shiftRight(fromArray([5, 6, -100, 9, -100, 8], [2, 3], 'int32'));
    assert.deepEqual([...shifted.data()], [7, 5, 6, 7, 9, 3]);
  });
  const noStart = T5ForConditionalGeneration.fromConfig(BASE);
  assert.throws(
    () => noStart.forward({ inputIds: fromArray([4, 5], [1, 2], 'int32'), labels: fromArray([4, 5], [1, 2], 'int32') }),
    (e: Error) => e instanceof ModelConfigError && /"decoder_start_token_id"/.test(e.message),
  );
  model.dispose();
  noStart.dispose();
});

test('tied and untied LM heads', async () => {
  const tied = (await AutoModelForSeq2SeqLM.fromPretrained(modelFixtureDir('t5-seq2seq'))) as T5ForConditionalGeneration;
  assert.equal(tied.typeName, 'T5ForConditionalGeneration');
  assert.equal(tied.getOutputEmbeddings().weight, tied.getInputEmbeddings().weight);
  const untied = (await AutoModelForSeq2SeqLM.fromPretrained(modelFixtureDir('t5-untied-gated-silu'))) as T5ForConditionalGeneration;
  assert.notEqual(untied.getOutputEmbeddings().weight, untied.getInputEmbeddings().weight);
  assert.deepEqual(untied.namedParameters().map(([n]) => n).filter((n) => !n.includes('.block.')), [
    'shared.weight', 'encoder.final_layer_norm.weight', 'decoder.final_layer_norm.weight', 'lm_head.weight',
  ]);
  tied.dispose();
  untied.dispose();
});

test('cached incremental decoding gives the full decoder pass, cross keys computed once', async () => {
  const model = (await AutoModelForSeq2SeqLM.fromPretrained(modelFixtureDir('t5-untied-gated-silu'))) as T5ForConditionalGeneration;
  const io = loadModelIO('t5-untied-gated-silu');
  scope(() => {
    const inputIds = io.get('input_ids')!;
    const attentionMask = io.get('attention_mask')!;
    const decoderIds = model.shiftRight(io.get('labels')!);
    const [B, L] = decoderIds.shape as [number, number];
    const V = model.config.vocabSize;
    const full = model.forward({ inputIds, attentionMask, decoderInputIds: decoderIds });
    const want = full.logits!.toArray();
    let step = model.forward({ inputIds, attentionMask, decoderInputIds: slice(decoderIds, 1, 0, 1), useCache: true });
    const encoderHiddenStates = step.encoderLastHiddenState!;
    const cross = (step.pastKeyValues as T5LayerCache[])[0]!.crossKey;
    for (let t = 0; ; t++) {
      const got = step.logits!.toArray();
      for (let b = 0; b < B; b++) {
        const at = (b * L + t) * V;
        assertClose(got.subarray(b * V, (b + 1) * V), want.subarray(at, at + V), { atol: 1e-4, rtol: 0 }, `b${b} t${t}`);
      }
      if (t + 1 === L) break;
      step = model.forward({
        encoderHiddenStates, attentionMask, decoderInputIds: slice(decoderIds, 1, t + 1, t + 2), pastKeyValues: step.pastKeyValues!, useCache: true,
      });
      assert.equal((step.pastKeyValues as T5LayerCache[])[0]!.crossKey, cross);
      assert.equal(step.pastKeyValues![0]!.key.shape[2], t + 2);
    }
  });
  model.dispose();
});

test('T5EncoderModel loads a seq2seq checkpoint (decoder ignored) and gives its encoder output', async () => {
  const encoder = await T5EncoderModel.fromPretrained(modelFixtureDir('t5-seq2seq'));
  const full = await AutoModelForSeq2SeqLM.fromPretrained(modelFixtureDir('t5-seq2seq'));
  const io = loadModelIO('t5-seq2seq');
  scope(() => {
    const inputs = { inputIds: io.get('input_ids')!, attentionMask: io.get('attention_mask')! };
    const a = encoder.forward(inputs).lastHiddenState!;
    const b = full.forward({ ...inputs, labels: io.get('labels')! }).encoderLastHiddenState!;
    assertClose(a.toArray(), b.toArray(), { atol: 1e-6, rtol: 0 }, 'encoder output');
  });
  encoder.dispose();
  full.dispose();
});

test('every T5 weight must be in the checkpoint', async () => {
  const tmp = makeTempDir();
  const weights = loadSafetensors(join(modelFixtureDir('t5-seq2seq'), 'model.safetensors'));
  try {
    const save = (tensors: Map<string, Tensor>) => saveSafetensors(join(tmp.dir, 'model.safetensors'), Object.fromEntries(tensors));
    writeFileSync(join(tmp.dir, 'config.json'), readFileSync(join(modelFixtureDir('t5-seq2seq'), 'config.json')));
    save(new Map([...weights].filter(([k]) => k !== 'decoder.block.1.layer.2.DenseReluDense.wo.weight')));
    await assert.rejects(AutoModelForSeq2SeqLM.fromPretrained(tmp.dir), (e: Error) => e instanceof StateDictError && /missing 1 key\(s\): decoder\.block\.1\.layer\.2\.DenseReluDense\.wo\.weight/.test(e.message));
    // Older checkpoints repeat the shared embedding under each stack: accepted.
    save(new Map([...weights, ['encoder.embed_tokens.weight', weights.get('shared.weight')!]]));
    (await AutoModelForSeq2SeqLM.fromPretrained(tmp.dir)).dispose();
    save(new Map([...weights, ['encoder.block.0.layer.0.SelfAttention.extra', fromArray([1])]]));
    await assert.rejects(AutoModelForSeq2SeqLM.fromPretrained(tmp.dir), (e: Error) => e instanceof StateDictError && /SelfAttention\.extra/.test(e.message));
  } finally {
    tmp.remove();
    for (const t of weights.values()) t.dispose();
  }
});

test('the task heads load a seq2seq checkpoint; only the head is new', async () => {
  const weights = { format: 'safetensors' as const, files: [join(modelFixtureDir('t5-seq2seq'), 'model.safetensors')], sharded: false, index: null };
  const raw = JSON.parse(readFileSync(join(modelFixtureDir('t5-seq2seq'), 'config.json'), 'utf8')) as RawConfig;
  const cases: [PreTrainedModel, string[]][] = [
    [T5ForSequenceClassification.fromConfig({ ...raw, num_labels: 3 }), ['classification_head.dense.weight', 'classification_head.dense.bias', 'classification_head.out_proj.weight', 'classification_head.out_proj.bias']],
    [T5ForTokenClassification.fromConfig({ ...raw, num_labels: 3 }), ['classifier.weight', 'classifier.bias']],
    [T5ForQuestionAnswering.fromConfig(raw), ['qa_outputs.weight', 'qa_outputs.bias']],
  ];
  for (const [model, fresh] of cases) {
    assert.deepEqual(model.loadWeights(weights).newlyInitialized, fresh, model.typeName);
    model.dispose();
  }
  assert.throws(() => T5ForQuestionAnswering.fromConfig({ ...raw, num_labels: 3 }), (e: Error) => e instanceof ModelConfigError && /"num_labels" must be 2/.test(e.message));
});

test('sequence classification needs the same number of <eos> tokens in every row', () => {
  const model = T5ForSequenceClassification.fromConfig({ ...BASE, decoder_start_token_id: 0, num_labels: 2 });
  scope(() => {
    const ids = fromArray([5, 6, 1, 0, 7, 1, 8, 1], [2, 4], 'int32');
    assert.throws(() => model.forward({ inputIds: ids }), (e: Error) => e instanceof ShapeError && /same number \(at least one\) of <eos>/.test(e.message));
    assert.deepEqual(model.forward({ inputIds: fromArray([5, 6, 1, 0, 7, 1, 8, 9], [2, 4], 'int32') }).logits!.shape, [2, 2]);
  });
  model.dispose();
});
