import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromArray, noGrad, scope, slice, type Tensor } from '../../src/engine/index.js';
import {
  GPT2Config,
  GPT2ForQuestionAnswering,
  GPT2ForSequenceClassification,
  GPT2ForTokenClassification,
  GPT2LMHeadModel,
  GPT2Model,
  ModelConfigError,
  type LayerKV,
} from '../../src/models/index.js';
import {
  assertGradsMatch, assertTensorMatches, checkModelFixture, fixtureInputs, LOSS_RTOL, loadModelIO, modelFixtureCases, modelFixtureDir,
} from '../helpers/model-fixtures.js';

const CLASSES = {
  'gpt2-base': GPT2Model,
  'gpt2-lm': GPT2LMHeadModel,
  'gpt2-lm-options': GPT2LMHeadModel,
  'gpt2-seqcls': GPT2ForSequenceClassification,
  'gpt2-tokcls': GPT2ForTokenClassification,
  'gpt2-qa': GPT2ForQuestionAnswering,
} as const;

test('every gpt2 fixture case has a class', () => {
  assert.deepEqual(modelFixtureCases('gpt2'), Object.keys(CLASSES).sort());
});

for (const [name, cls] of Object.entries(CLASSES)) {
  test(`${name} matches transformers`, () => checkModelFixture(name, (dir) => cls.fromPretrained(dir)));
}

test('the LM head is tied to wte and appears once among the parameters', async () => {
  const model = await GPT2LMHeadModel.fromPretrained(modelFixtureDir('gpt2-lm'));
  try {
    assert.equal(model.getSubmodule('lm_head').parameter('weight'), model.getInputEmbeddings().weight);
    assert.ok(model.namedParameters().every(([n]) => n !== 'lm_head.weight'));
    assert.equal(model.outputEmbeddingsName(), 'lm_head');
    assert.equal(model.training, false);
  } finally {
    model.dispose();
  }
});

/** ids [B, T] → int32 tensor */
function ids(rows: number[][]): Tensor {
  return fromArray(rows.flat(), [rows.length, rows[0]!.length], 'int32');
}

test('KV cache: logits computed token by token equal the full forward', async () => {
  const model = await GPT2LMHeadModel.fromPretrained(modelFixtureDir('gpt2-lm'));
  try {
    noGrad(() =>
      scope(() => {
        const tokens = [
          [5, 17, 42, 8, 91, 3],
          [60, 2, 33, 71, 14, 9],
        ];
        const mask = [
          [0, 0, 1, 1, 1, 1],
          [1, 1, 1, 1, 1, 1],
        ];
        const full = model.forward({ inputIds: ids(tokens), attentionMask: ids(mask) }).logits!;
        // Prefill three tokens, then feed one token at a time with the growing mask.
        let out = model.forward({ inputIds: ids(tokens.map((r) => r.slice(0, 3))), attentionMask: ids(mask.map((r) => r.slice(0, 3))), useCache: true });
        let past: LayerKV[] = out.pastKeyValues!;
        assert.equal(past.length, 2);
        assert.deepEqual([...past[0]!.key.shape], [2, 4, 3, 8]);
        assertTensorMatches(out.logits!, slice(full, 1, 0, 3), { atol: 1e-5, rtol: 0 }, 'prefill');
        for (let t = 3; t < 6; t++) {
          out = model.forward({
            inputIds: ids(tokens.map((r) => [r[t]!])),
            attentionMask: ids(mask.map((r) => r.slice(0, t + 1))),
            pastKeyValues: past,
            useCache: true,
          });
          past = out.pastKeyValues!;
          assert.deepEqual([...past[1]!.value.shape], [2, 4, t + 1, 8]);
          assertTensorMatches(out.logits!, slice(full, 1, t, t + 1), { atol: 1e-5, rtol: 0 }, `step ${t}`);
        }
      }),
    );
  } finally {
    model.dispose();
  }
});

test('GPT2Config names the field that is missing or inconsistent', () => {
  const base = { model_type: 'gpt2', vocab_size: 10, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16 };
  assert.throws(() => new GPT2Config({ ...base, n_head: 3 }), /"n_embd" \(8\) must be divisible by "n_head" \(3\)/);
  const { n_layer: _, ...noLayers } = base;
  assert.throws(() => new GPT2Config(noLayers), /missing required field "n_layer"/);
  assert.throws(() => new GPT2Config({ ...base, n_embd: '8' }), /"n_embd" must be an integer/);
  assert.throws(() => new GPT2Config({ ...base, activation_function: 'mish' }), /"activation_function" "mish" is not supported/);
  const aliased = new GPT2Config({ model_type: 'gpt2', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16 });
  assert.equal(aliased.intermediateSize, 32);
});

test('GPT2Config rejects sizes below 1 and a negative layer_norm_epsilon, naming the file and the key', () => {
  const base = { model_type: 'gpt2', vocab_size: 10, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16 };
  const fails = (raw: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => new GPT2Config(raw, 'x/config.json'), (e: Error) => e instanceof ModelConfigError && pattern.test(e.message), `expected ${pattern}`);
  for (const key of ['vocab_size', 'n_embd', 'n_layer', 'n_head', 'n_positions', 'n_inner']) {
    fails({ ...base, [key]: -32 }, new RegExp(`^x/config\\.json: "${key}" must be a positive integer, got -32$`));
    fails({ ...base, [key]: 0 }, new RegExp(`"${key}" must be a positive integer, got 0`));
  }
  fails({ model_type: 'gpt2', vocab_size: 10, hidden_size: -8, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16 }, /"hidden_size" must be a positive integer, got -8/);
  fails({ ...base, layer_norm_epsilon: -1e-5 }, /^x\/config\.json: "layer_norm_epsilon" must be a non-negative number, got -0\.00001$/);
  assert.equal(new GPT2Config({ ...base, layer_norm_epsilon: 0, n_inner: null }).layerNormEpsilon, 0);
});

test('sequence classification without a pad token accepts only a batch of one', () => {
  const config = new GPT2Config({ model_type: 'gpt2', vocab_size: 10, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16 });
  const model = new GPT2ForSequenceClassification(config).eval();
  try {
    noGrad(() =>
      scope(() => {
        assert.throws(() => model.forward({ inputIds: ids([[1, 2], [3, 4]]) }), /"pad_token_id" is not set/);
        assert.deepEqual([...model.forward({ inputIds: ids([[1, 2]]) }).logits!.shape], [1, 2]);
      }),
    );
  } finally {
    model.dispose();
  }
});

test('gpt2-lm with returnLogits false: the loss goes through the fused LM head, matches transformers and gives the same gradients', async () => {
  const io = loadModelIO('gpt2-lm');
  const model = await GPT2LMHeadModel.fromPretrained(modelFixtureDir('gpt2-lm'));
  try {
    scope(() => {
      const inputs = fixtureInputs(io);
      const embeds = noGrad(() => model.getInputEmbeddings().forward(inputs.inputIds!)).setRequiresGrad(true);
      const out = model.forward({ ...inputs, inputIds: undefined, inputsEmbeds: embeds, returnLogits: false });
      assert.equal(out.logits, undefined);
      assertTensorMatches(out.loss!.detach().view([1]), io.get('loss')!, { atol: 0, rtol: LOSS_RTOL }, 'loss');
      out.loss!.backward();
      assertGradsMatch(model, embeds, io, 'gpt2-lm fused head');
      embeds.zeroGrad();
    });
  } finally {
    for (const p of model.parameters()) p.zeroGrad();
    model.dispose();
    for (const t of io.values()) t.dispose();
  }
});

test('a causal LM in training mode returns the loss without logits unless returnLogits is set', () => {
  const model = new GPT2LMHeadModel(new GPT2Config({ model_type: 'gpt2', vocab_size: 50, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }));
  try {
    scope(() => {
      const ids = fromArray(Int32Array.from([1, 2, 3, 4, 5, 6]), [1, 6], 'int32');
      const fused = model.forward({ inputIds: ids, labels: ids });
      const full = model.forward({ inputIds: ids, labels: ids, returnLogits: true });
      assert.equal(fused.logits, undefined);
      assert.deepEqual(full.logits!.shape, [1, 6, 50]);
      assert.ok(Math.abs(fused.loss!.item() - full.loss!.item()) < 1e-5);
      model.eval();
      assert.deepEqual(model.forward({ inputIds: ids, labels: ids }).logits!.shape, [1, 6, 50]);
    });
  } finally {
    model.dispose();
  }
});
