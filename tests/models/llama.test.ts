import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromArray, noGrad, scope, ShapeError, slice, Storage, type Tensor } from '../../src/engine/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/index.js';
import { Linear, Module, StateDictError } from '../../src/nn/index.js';
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForSeq2SeqLM,
  LlamaConfig,
  LlamaForCausalLM,
  LlamaForQuestionAnswering,
  LlamaForSequenceClassification,
  MistralForCausalLM,
  ModelConfigError,
  Qwen2ForCausalLM,
  type RawConfig,
} from '../../src/models/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { loadModelIO, modelFixtureDir } from '../helpers/model-fixtures.js';
import { makeTempDir } from '../helpers/temp.js';

const BASE: RawConfig = { model_type: 'llama', vocab_size: 96, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4 };

function fixtureConfig(name: string): RawConfig {
  return JSON.parse(readFileSync(join(modelFixtureDir(name), 'config.json'), 'utf8')) as RawConfig;
}

/** Each layer's sliding window. */
function slidingWindows(config: LlamaConfig): (number | null)[] {
  return Array.from({ length: config.numHiddenLayers }, (_, i) => config.slidingWindow(i));
}

function configError(raw: RawConfig, pattern: RegExp): void {
  assert.throws(() => new LlamaConfig(raw), (e: Error) => e instanceof ModelConfigError && pattern.test(e.message), `expected ${pattern}`);
}

test('family classes load their model types and keep their names', async () => {
  const mistral = await MistralForCausalLM.fromPretrained(modelFixtureDir('mistral-lm-sliding'));
  assert.equal(mistral.typeName, 'MistralForCausalLM');
  assert.deepEqual(slidingWindows(mistral.config), [3, 3]);
  const qwen = await AutoModelForCausalLM.fromPretrained(modelFixtureDir('qwen2-lm'));
  assert.ok(qwen instanceof Qwen2ForCausalLM);
  assert.equal(qwen.getSubmodule('model.layers.0.self_attn.q_proj').parameter('bias')?.shape[0], 32);
  assert.equal(qwen.getSubmodule('model.layers.0.self_attn.o_proj').parameter('bias'), null);
  const llama = await LlamaForCausalLM.fromPretrained(modelFixtureDir('llama-lm'));
  assert.equal(llama.nameOrPath, modelFixtureDir('llama-lm'));
  assert.equal(llama.training, false);
  assert.equal(llama.outputEmbeddingsName(), 'lm_head');
  for (const m of [mistral, qwen, llama]) m.dispose();
});

test('tied LM head shares the embedding and is saved once', async () => {
  const model = await AutoModelForCausalLM.fromPretrained(modelFixtureDir('llama-lm-tied-llama3rope'));
  assert.equal(model.getOutputEmbeddings()!.weight, model.getInputEmbeddings().weight);
  const tmp = makeTempDir();
  try {
    model.savePretrained(tmp.dir);
    assert.ok(!loadSafetensors(join(tmp.dir, 'model.safetensors')).has('lm_head.weight'));
    const again = await AutoModelForCausalLM.fromPretrained(tmp.dir);
    const io = loadModelIO('llama-lm-tied-llama3rope');
    scope(() => {
      const logits = again.forward({ inputIds: io.get('input_ids')!, attentionMask: io.get('attention_mask')! }).logits!;
      assertClose(logits.toArray(), io.get('logits')!.toArray(), { atol: 1e-4, rtol: 0 }, 'logits after save/load');
    });
    again.dispose();
  } finally {
    tmp.remove();
    model.dispose();
  }
});

test('a causal-LM checkpoint loads into the classification head, whose score is new', async () => {
  const cls = LlamaForSequenceClassification.fromConfig({ ...fixtureConfig('llama-lm'), num_labels: 3 });
  const weights = { format: 'safetensors' as const, files: [join(modelFixtureDir('llama-lm'), 'model.safetensors')], sharded: false, index: null };
  assert.deepEqual(cls.loadWeights(weights).newlyInitialized, ['score.weight']);
  cls.dispose();
});

test('a llama or qwen2 causal-LM checkpoint (model.*) loads into the QA model (transformer.*)', () => {
  for (const name of ['llama-lm', 'qwen2-lm']) {
    const file = join(modelFixtureDir(name), 'model.safetensors');
    const qa = LlamaForQuestionAnswering.fromConfig(fixtureConfig(name));
    assert.equal(qa.baseModelPrefix, 'transformer');
    assert.deepEqual(qa.loadWeights({ format: 'safetensors', files: [file], sharded: false, index: null }).newlyInitialized, ['qa_outputs.weight', 'qa_outputs.bias']);
    const checkpoint = loadSafetensors(file);
    assert.deepEqual(qa.getSubmodule('transformer.layers.1.self_attn.k_proj').parameter('weight')!.toArray(), checkpoint.get('model.layers.1.self_attn.k_proj.weight')!.toArray());
    for (const t of checkpoint.values()) t.dispose();
    qa.dispose();
  }
});

/** Logits of a prefill of `prefill` tokens followed by one cached step per token, against one full pass. */
function checkIncrementalDecoding(model: LlamaForCausalLM, ids: Tensor, mask: Tensor, prefill: number): void {
  scope(() => {
    const [B, T] = ids.shape as [number, number];
    const full = model.forward({ inputIds: ids, attentionMask: mask }).logits!.toArray();
    const keep = mask.data();
    const V = model.config.vocabSize;
    let out = model.forward({ inputIds: slice(ids, 1, 0, prefill), attentionMask: slice(mask, 1, 0, prefill), useCache: true });
    const compare = (logits: Tensor, from: number) => {
      const got = logits.toArray();
      const width = logits.shape[1]!;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < width; t++) {
          // Rows that see only padding attend uniformly to whatever keys exist, which differs by design.
          if (keep[b * T + from + t] === 0) continue;
          const at = (b * T + from + t) * V;
          assertClose(got.subarray((b * width + t) * V, (b * width + t + 1) * V), full.subarray(at, at + V), { atol: 1e-4, rtol: 0 }, `b${b} t${from + t}`);
        }
      }
    };
    compare(out.logits!, 0);
    for (let t = prefill; t < T; t++) {
      out = model.forward({ inputIds: slice(ids, 1, t, t + 1), attentionMask: slice(mask, 1, 0, t + 1), pastKeyValues: out.pastKeyValues!, useCache: true });
      assert.equal(out.pastKeyValues![0]!.key.shape[2], t + 1);
      compare(out.logits!, t);
    }
  });
}

for (const name of ['llama-lm', 'mistral-lm-leftpad-window4', 'qwen2-lm-mixed-sliding', 'llama-lm-tied-llama3rope']) {
  test(`${name}: cached incremental decoding gives the full forward's logits`, async () => {
    const model = (await AutoModelForCausalLM.fromPretrained(modelFixtureDir(name))) as LlamaForCausalLM;
    const io = loadModelIO(name);
    checkIncrementalDecoding(model, io.get('input_ids')!, io.get('attention_mask')!, 3);
    model.dispose();
  });
}

test('left padding is masked out and positions follow position ids', async () => {
  const model = (await AutoModelForCausalLM.fromPretrained(modelFixtureDir('llama-lm'))) as LlamaForCausalLM;
  scope(() => {
    const ids = fromArray([5, 6, 7], [1, 3], 'int32');
    const padded = model.forward({ inputIds: fromArray([0, 0, 5, 6, 7], [1, 5], 'int32'), attentionMask: fromArray([0, 0, 1, 1, 1], [1, 5], 'int32') }).logits!;
    const plain = model.forward({ inputIds: ids }).logits!;
    assertClose(slice(padded, 1, 2).toArray(), plain.toArray(), { atol: 1e-4, rtol: 0 }, 'padded row vs unpadded');
    const spread = model.forward({ inputIds: ids, positionIds: fromArray([0, 4, 9], [1, 3], 'int32') }).logits!.toArray();
    const last = plain.toArray();
    assert.ok(Math.abs(spread[2 * 96]! - last[2 * 96]!) > 1e-3, 'position ids change relative distances');
  });
  model.dispose();
});

test('rope settings: rope_parameters, legacy rope_theta + rope_scaling, defaults', () => {
  assert.deepEqual(new LlamaConfig(BASE).rope, { dim: 8, theta: 10000, scaling: undefined });
  assert.deepEqual(new LlamaConfig({ ...BASE, rope_theta: 500000, rope_scaling: { type: 'linear', factor: 2 } }).rope, {
    dim: 8, theta: 500000, scaling: { type: 'linear', factor: 2 },
  });
  // rope_scaling wins over rope_parameters, as transformers standardises them.
  const both = new LlamaConfig({ ...BASE, rope_parameters: { rope_type: 'default', rope_theta: 5 }, rope_scaling: { type: 'linear', factor: 3 } });
  assert.deepEqual(both.rope, { dim: 8, theta: 10000, scaling: { type: 'linear', factor: 3 } });
  const llama3 = new LlamaConfig({
    ...BASE, max_position_embeddings: 128,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4 },
  });
  assert.deepEqual(llama3.rope.scaling, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 128 });
  configError({ ...BASE, rope_parameters: { rope_type: 'yarn', factor: 4 } }, /rope_parameters: "rope_type" must be default, linear or llama3, got "yarn"/);
  configError({ ...BASE, rope_scaling: { type: 'linear' } }, /rope_scaling: missing required field "factor"/);
  configError({ ...BASE, rope_parameters: { rope_type: 'default', partial_rotary_factor: 0.5 } }, /"partial_rotary_factor"/);
});

test('family defaults: kv heads, head dim, biases, sliding windows', () => {
  const llama = new LlamaConfig({ ...BASE, num_key_value_heads: null, attention_bias: true, mlp_bias: true });
  assert.equal(llama.numKeyValueHeads, 4);
  assert.equal(llama.tieWordEmbeddings, false);
  assert.deepEqual([llama.qkvBias, llama.outputBias, llama.mlpBias], [true, true, true]);
  const mistral = new LlamaConfig({ ...BASE, model_type: 'mistral', num_attention_heads: 8, attention_bias: true });
  assert.equal(mistral.numKeyValueHeads, 8);
  assert.deepEqual(slidingWindows(mistral), [4096, 4096]);
  assert.equal(mistral.qkvBias, false);
  assert.deepEqual(slidingWindows(new LlamaConfig({ ...BASE, model_type: 'mistral', num_key_value_heads: 2, sliding_window: null })), [null, null]);
  const qwen = new LlamaConfig({ ...BASE, model_type: 'qwen2', num_key_value_heads: 2, hidden_size: 36, head_dim: 10 });
  assert.deepEqual([qwen.headDim, qwen.qkvBias, qwen.outputBias, slidingWindows(qwen)], [10, true, false, [null, null]]);
  const mixed = new LlamaConfig({ ...BASE, model_type: 'qwen2', num_key_value_heads: 2, use_sliding_window: true, sliding_window: 16, max_window_layers: 1 });
  assert.deepEqual(slidingWindows(mixed), [null, 16]);
  const listed = new LlamaConfig({ ...mixed.raw, layer_types: ['sliding_attention', 'full_attention'] });
  assert.deepEqual(slidingWindows(listed), [16, null]);
});

test('bad configs raise ModelConfigError naming the field', () => {
  const { hidden_size: _h, ...noHidden } = BASE;
  configError(noHidden, /missing required field "hidden_size"/);
  configError({ ...BASE, hidden_size: 30 }, /"hidden_size" \(30\) must be a multiple of "num_attention_heads" \(4\)/);
  configError({ ...BASE, hidden_size: 30, head_dim: 8 }, /"hidden_size" \(30\)/);
  configError({ ...BASE, num_key_value_heads: 3 }, /"num_key_value_heads" \(3\) must divide "num_attention_heads" \(4\)/);
  configError({ ...BASE, num_hidden_layers: 0 }, /"num_hidden_layers" must be a positive integer/);
  configError({ ...BASE, intermediate_size: '64' }, /"intermediate_size" must be an integer/);
  configError({ ...BASE, head_dim: 7 }, /"head_dim" must be even/);
  configError({ ...BASE, hidden_act: 'swiglu' }, /"hidden_act" "swiglu" is not supported/);
  configError({ ...BASE, model_type: 'gpt2' }, /"model_type" must be one of llama, mistral, qwen2/);
  configError({ ...BASE, model_type: 'qwen2', num_key_value_heads: 2, layer_types: ['full_attention'] }, /"layer_types" must list/);
  configError({ ...BASE, model_type: 'qwen2', num_key_value_heads: 2, layer_types: ['sliding_attention', 'full_attention'] }, /"sliding_window" must be set/);
  configError({ ...BASE, model_type: 'mistral', num_key_value_heads: 2, sliding_window: 0 }, /"sliding_window" must be a positive integer/);
  configError({ ...BASE, vocab_size: -1 }, /"vocab_size" must be a positive integer, got -1/);
  configError({ ...BASE, max_position_embeddings: 0 }, /"max_position_embeddings" must be a positive integer, got 0/);
  configError({ ...BASE, rms_norm_eps: -1e-6 }, /^config\.json: "rms_norm_eps" must be a non-negative number, got -0\.000001$/);
  configError({ ...BASE, rope_theta: 0 }, /^config\.json: "rope_theta" must be a positive number, got 0$/);
  configError({ ...BASE, rope_scaling: { type: 'linear', factor: 0 } }, /^config\.json rope_scaling: "factor" must be a positive number, got 0$/);
  configError({ ...BASE, rope_parameters: { rope_type: 'linear', factor: -2 } }, /^config\.json rope_parameters: "factor" must be a positive number, got -2$/);
  const llama3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
  configError({ ...BASE, rope_scaling: { ...llama3, factor: -8 } }, /rope_scaling: "factor" must be a positive number, got -8/);
  configError({ ...BASE, rope_scaling: { ...llama3, low_freq_factor: 0 } }, /rope_scaling: "low_freq_factor" must be a positive number, got 0/);
  configError({ ...BASE, rope_scaling: { ...llama3, high_freq_factor: 1 } }, /rope_scaling: "high_freq_factor" must differ from "low_freq_factor" \(1\)/);
  configError({ ...BASE, rope_scaling: { ...llama3, original_max_position_embeddings: 0 } }, /"original_max_position_embeddings" must be a positive integer, got 0/);
  assert.equal(new LlamaConfig({ ...BASE, rms_norm_eps: 0 }).rmsNormEps, 0);
});

test('Auto classes name the model_type they cannot serve', () => {
  const autoError = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: Error) => e instanceof ModelConfigError && pattern.test(e.message));
  autoError(() => AutoModel.fromConfig({ ...BASE, model_type: 'gpt9' }), /model_type "gpt9" is not supported by AutoModel \(supported: .*llama/);
  autoError(() => AutoModelForSeq2SeqLM.fromConfig(BASE), /model_type "llama" is not supported by AutoModelForSeq2SeqLM \(supported: t5\)/);
  const { model_type: _m, ...untyped } = BASE;
  autoError(() => AutoModel.fromConfig(untyped), /missing required field "model_type"/);
});

test('checkpoints that do not fit raise StateDictError naming the key', async () => {
  const tmp = makeTempDir();
  const weights = loadSafetensors(join(modelFixtureDir('llama-lm'), 'model.safetensors'));
  const save = (tensors: Map<string, Tensor>, config: RawConfig = fixtureConfig('llama-lm')) => {
    saveSafetensors(join(tmp.dir, 'model.safetensors'), Object.fromEntries(tensors));
    writeFileSync(join(tmp.dir, 'config.json'), JSON.stringify(config));
  };
  const fails = (pattern: RegExp) => assert.rejects(AutoModelForCausalLM.fromPretrained(tmp.dir), (e: Error) => e instanceof StateDictError && pattern.test(e.message));
  try {
    save(weights, { ...fixtureConfig('llama-lm'), intermediate_size: 48 });
    await fails(/size mismatch for .*model\.layers\.0\.mlp\.gate_proj\.weight: checkpoint \[64, 32\] vs model \[48, 32\]/);
    save(new Map([...weights].filter(([k]) => k !== 'model.norm.weight')));
    await fails(/missing 1 key\(s\): model\.norm\.weight/);
    save(new Map([...weights, ['model.layers.0.self_attn.rotary.weight', fromArray([1, 2])]]));
    await fails(/keys the model does not: model\.layers\.0\.self_attn\.rotary\.weight/);
    copyFileSync(join(modelFixtureDir('llama-lm'), 'model.safetensors'), join(tmp.dir, 'model.safetensors'));
    writeFileSync(join(tmp.dir, 'config.json'), JSON.stringify({ ...fixtureConfig('llama-lm'), num_key_value_heads: 4 }));
    await fails(/k_proj\.weight: checkpoint \[16, 32\] vs model \[32, 32\]/);
  } finally {
    tmp.remove();
    for (const t of weights.values()) t.dispose();
  }
});

test('bad inputs raise errors naming the argument', async () => {
  const model = await AutoModelForCausalLM.fromPretrained(modelFixtureDir('llama-lm'));
  const ids = fromArray([3, 4, 5], [1, 3], 'int32');
  scope(() => {
    assert.throws(() => model.forward({}), (e: Error) => e instanceof ShapeError && /inputIds/.test(e.message));
    assert.throws(() => model.forward({ inputIds: ids, attentionMask: fromArray([1, 1], [1, 2], 'int32') }), (e: Error) => e instanceof ShapeError && /attentionMask.*\[1, 3\]/.test(e.message));
    assert.throws(() => model.forward({ inputIds: ids, pastKeyValues: [] }), /pastKeyValues.*one entry per layer \(2\)/);
  });
  const cls = LlamaForSequenceClassification.fromConfig({ ...fixtureConfig('llama-seqcls'), pad_token_id: null });
  scope(() => {
    assert.throws(() => cls.forward({ inputIds: fromArray([3, 4, 5, 6], [2, 2], 'int32') }), (e: Error) => e instanceof ModelConfigError && /"pad_token_id"/.test(e.message));
    assert.deepEqual(cls.forward({ inputIds: ids }).logits!.shape, [1, 3]);
  });
  model.dispose();
  cls.dispose();
});

test('a training step inside scope() leaves no storage behind', async () => {
  const model = await AutoModelForCausalLM.fromPretrained(modelFixtureDir('mistral-lm-leftpad-window4'));
  const io = loadModelIO('mistral-lm-leftpad-window4');
  const inputs = { inputIds: io.get('input_ids')!, attentionMask: io.get('attention_mask')!, labels: io.get('labels')! };
  const step = () => scope(() => model.forward(inputs).loss!.backward());
  step();
  for (const p of model.parameters()) p.zeroGrad();
  const live = Storage.liveCount;
  step();
  for (const p of model.parameters()) p.zeroGrad();
  scope(() => void noGrad(() => model.forward({ ...inputs, useCache: true })));
  assert.equal(Storage.liveCount, live);
  model.dispose();
});

test('a layer swapped in with setSubmodule is used by the forward', async () => {
  const model = await AutoModelForCausalLM.fromPretrained(modelFixtureDir('qwen2-lm'));
  const original = model.getSubmodule('model.layers.1.mlp.down_proj') as Linear;
  let calls = 0;
  class Counting extends Module {
    forward(x: Tensor): Tensor {
      calls++;
      return original.forward(x);
    }
  }
  model.setSubmodule('model.layers.1.mlp.down_proj', new Counting());
  scope(() => void model.forward({ inputIds: fromArray([3, 4, 5], [1, 3], 'int32') }));
  assert.equal(calls, 1);
  model.dispose();
  original.dispose();
});
