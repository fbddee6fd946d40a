// Prompt tuning, p-tuning and prefix tuning against the real PEFT on the tiny GPT-2 and BERT models
// (tools/fixtures/peft_prompt_ia3.py): encoders, task input handling, outputs, gradients, saving, loading.
// Generation with prompts is checked in tests/generation/models.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fromArray, noGrad, type Tensor } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/io/index.js';
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForSeq2SeqLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  type AutoModelClass,
  type ModelInputs,
  type PreTrainedModel,
} from '../../src/models/index.js';
import { PeftConfig, type PromptLearningConfig } from '../../src/peft/config.js';
import { ConfigError, UnsupportedError } from '../../src/peft/errors.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { MODEL_TYPE_TO_PEFT_MODEL_MAPPING, PeftModel } from '../../src/peft/peft-model.js';
import { PrefixTuningConfig } from '../../src/peft/tuners/prefix-tuning/config.js';
import { PromptTuningConfig } from '../../src/peft/tuners/prompt-tuning/config.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { assertTensorMatches } from '../helpers/model-fixtures.js';
import { assertSameAdapterConfig, captureWarnings } from '../helpers/peft.js';
import { fixturePath, repoRoot } from '../helpers/paths.js';
import { loadExpected, promptIa3Case, promptIa3Cases, type PromptIa3Case } from '../helpers/prompt-ia3.js';

const TOL = { atol: 1e-4, rtol: 0 };
const GRAD_TOL = { atol: 1e-6, rtol: 1e-4, relativeToMax: true };
const AUTO: Record<string, AutoModelClass> = {
  CAUSAL_LM: AutoModelForCausalLM,
  SEQ_CLS: AutoModelForSequenceClassification,
  TOKEN_CLS: AutoModelForTokenClassification,
  FEATURE_EXTRACTION: AutoModel,
  SEQ_2_SEQ_LM: AutoModelForSeq2SeqLM,
};
const CASES = promptIa3Cases().filter((c) => c.peftType !== 'IA3');
const tmp = mkdtempSync(join(tmpdir(), 'peftjs-prompt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function baseModel(c: PromptIa3Case): Promise<PreTrainedModel> {
  const model = await AUTO[c.taskType]!.fromPretrained(c.baseDir);
  model.nameOrPath = (c.meta['base'] as string).includes('/') ? (c.meta['base'] as string) : `tests/fixtures/models/${c.meta['base'] as string}`;
  return model.eval();
}

function savedConfig(c: PromptIa3Case): PromptLearningConfig {
  return PeftConfig.fromPretrained(c.dir) as PromptLearningConfig;
}

/** A trainable model (getPeftModel) with the fixture's encoder weights and modules_to_save copies. */
async function trainable(c: PromptIa3Case, expected: Map<string, Tensor>): Promise<PeftModel> {
  const config = savedConfig(c);
  Object.assign(config, { inferenceMode: false, modulesToSave: null, baseModelNameOrPath: null });
  const tokenizer = config.peftType === 'PROMPT_TUNING' && (config as PromptTuningConfig).promptTuningInit === 'TEXT' ? await loadTokenizer(join(repoRoot, (config as PromptTuningConfig).tokenizerNameOrPath!)) : undefined;
  const peft = getPeftModel(await baseModel(c), config, { tokenizer });
  assert.ok(peft instanceof MODEL_TYPE_TO_PEFT_MODEL_MAPPING[c.taskType as keyof typeof MODEL_TYPE_TO_PEFT_MODEL_MAPPING]);
  for (const [name, t] of peft.namedParameters()) {
    const encoder = /^prompt_encoder\.default\.(.*)$/.exec(name);
    const copy = /^base_model\.(.*)\.modules_to_save\.default\.(\w+)$/.exec(name);
    const value = encoder !== null ? expected.get(`encoder.${encoder[1]}`) : copy !== null ? expected.get(`modules_to_save.${copy[1]}.${copy[2]}`) : null;
    if (value === undefined) assert.fail(`${c.name}: no fixture value for ${name}`);
    if (value !== null && tokenizer === undefined) t.data().set(value.data());
  }
  return peft.eval();
}

function encoderParameters(peft: PeftModel): [string, Tensor][] {
  return peft.namedParameters().filter(([n]) => n.startsWith('prompt_encoder.default.')).map(([n, t]) => [n.slice('prompt_encoder.default.'.length), t]);
}

function inputs(expected: Map<string, Tensor>): ModelInputs {
  const get = (k: string): Tensor | undefined => expected.get(`input.${k}`);
  return { inputIds: get('input_ids'), attentionMask: get('attention_mask'), tokenTypeIds: get('token_type_ids'), labels: get('labels') };
}

function checkOutputs(out: { logits?: Tensor; loss?: Tensor; lastHiddenState?: Tensor }, expected: Map<string, Tensor>, prefix: string, label: string): void {
  for (const [key, value] of [['logits', out.logits], ['last_hidden_state', out.lastHiddenState]] as const) {
    const e = expected.get(`${prefix}${key}`);
    if (e !== undefined) assertTensorMatches(value!, e, TOL, `${label} ${key}`);
  }
  const loss = expected.get(`${prefix}loss`);
  assert.equal(out.loss !== undefined, loss !== undefined, `${label}: loss`);
  if (loss !== undefined) assertTensorMatches(out.loss!.detach().view([1]), loss, { atol: 0, rtol: 1e-5 }, `${label} loss`);
}

for (const c of CASES) {
  test(`${c.name}: trainable parameters, counts, prompt embeddings, outputs and gradients match PEFT`, async () => {
    const expected = loadExpected(c);
    const peft = await trainable(c, expected);
    const names = peft.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => n);
    assert.deepEqual(names, c.trainable);
    const { trainable: n, all } = peft.getNbTrainableParameters();
    assert.deepEqual([n, all], c.counts);
    assertTensorMatches(peft.getPromptEmbeddingToSave('default'), expected.get('prompt_embeddings')!, { atol: 1e-6, rtol: 1e-5 }, 'prompt_embeddings');
    const { result: out } = captureWarnings(() => peft.forward(inputs(expected)));
    checkOutputs(out, expected, '', c.name);
    if (expected.has('grad.embedding.weight')) {
      out.loss!.backward();
      for (const [name, t] of encoderParameters(peft)) {
        assertTensorMatches(t.grad!, expected.get(`grad.${name}`)!, GRAD_TOL, `${c.name} grad ${name}`);
      }
    }
    const disabled = peft.disableAdapter(() => noGrad(() => peft.forward(inputs(expected))));
    checkOutputs(disabled, expected, 'disabled.', `${c.name} disabled`);
  });

  test(`${c.name}: saves adapter_config.json and the keys PEFT saves; loading the saved adapter reproduces the outputs`, async () => {
    const expected = loadExpected(c);
    const peft = await trainable(c, expected);
    const dir = join(tmp, c.name);
    peft.savePretrained(dir);
    assertSameAdapterConfig(PeftConfig.fromPretrained(dir), readFileSync(join(c.dir, 'adapter_config.json'), 'utf8'), c.name);
    const ours = loadSafetensors(join(dir, 'adapter_model.safetensors'));
    const theirs = loadSafetensors(join(c.dir, 'adapter_model.safetensors'));
    assert.deepEqual(Object.fromEntries([...ours].map(([k, t]) => [k, [...t.shape]])), c.saved);
    for (const [k, t] of theirs) assertTensorMatches(ours.get(k)!, t, { atol: 1e-6, rtol: 1e-5 }, `saved ${k}`);

    const loaded = await PeftModel.fromPretrained(await baseModel(c), c.dir);
    assert.equal(loaded.getNbTrainableParameters().trainable, 0);
    checkOutputs(captureWarnings(() => noGrad(() => loaded.forward(inputs(expected)))).result, expected, '', `${c.name} loaded`);
    // Loaded for inference, the adapter saves PEFT's file byte for byte.
    const again = join(tmp, `${c.name}-again`);
    captureWarnings(() => loaded.savePretrained(again));
    assert.deepEqual(readFileSync(join(again, 'adapter_model.safetensors')), readFileSync(join(c.dir, 'adapter_model.safetensors')));
  });
}

test('TEXT init copies the word embeddings of the init text’s tokens, repeated to the virtual tokens', async () => {
  const c = promptIa3Case('gpt2-prompt-tuning-text');
  const expected = loadExpected(c);
  const peft = await trainable(c, expected);
  assert.deepEqual([...peft.getPromptEmbeddingToSave('default').toArray()], [...expected.get('prompt_embeddings')!.toArray()]);
  const config = savedConfig(c);
  config.inferenceMode = false;
  assert.throws(() => getPeftModel(peft.getBaseModel(), config), (e: unknown) => e instanceof ConfigError && /tokenizer option/.test(e.message));
});

test('prompt learning refuses a config without task type, prefix tuning on a model without a KV path, merging', async () => {
  const gpt2 = await AutoModelForCausalLM.fromPretrained(fixturePath('models', 'gpt2-lm'));
  assert.throws(() => getPeftModel(gpt2, new PromptTuningConfig({ numVirtualTokens: 2 })), (e: unknown) => e instanceof ConfigError && e.key === 'task_type');
  const distilbert = await AutoModelForSequenceClassification.fromPretrained(fixturePath('models', 'distilbert-seqcls'));
  assert.throws(() => getPeftModel(distilbert, new PrefixTuningConfig({ taskType: 'SEQ_CLS', numVirtualTokens: 2 })), UnsupportedError);
  const peft = getPeftModel(gpt2, new PromptTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 2 }));
  assert.throws(() => peft.addAdapter('p', new PrefixTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 2 })), /different methods/);
  assert.throws(() => peft.addAdapter('v.2', new PromptTuningConfig({ taskType: 'CAUSAL_LM', numVirtualTokens: 2 })), /adapter name must be a non-empty string without '\.'/);
  assert.throws(() => peft.mergeAndUnload(), UnsupportedError);
  assert.throws(() => peft.setRequiresGrad('default'), UnsupportedError);
  assert.throws(() => peft.forward({ inputIds: fromArray([[1, 2]], [1, 2], 'int32'), adapterNames: ['default'] }), UnsupportedError);
});

test('several prompt-learning adapters: added inactive, switched with setAdapter, deleted', async () => {
  const c = promptIa3Case('bert-prompt-tuning');
  const expected = loadExpected(c);
  const peft = await trainable(c, expected);
  peft.addAdapter('other', new PromptTuningConfig({ taskType: 'SEQ_CLS', numVirtualTokens: 5 }));
  assert.deepEqual(peft.peftConfig.get('other')!.modulesToSave, ['classifier', 'score']);
  assert.equal(peft.activeAdapter, 'default');
  const x = inputs(expected);
  checkOutputs(captureWarnings(() => noGrad(() => peft.forward(x))).result, expected, '', 'default active');
  peft.setAdapter('other');
  assert.deepEqual(peft.getPrompt(2).shape, [2, 5, 32]);
  const other = noGrad(() => peft.forward(x)).logits!;
  assert.notDeepEqual([...other.toArray()], [...expected.get('logits')!.toArray()]);
  peft.deleteAdapter('other');
  assert.equal(peft.activeAdapter, 'default');
  checkOutputs(noGrad(() => peft.forward(x)), expected, '', 'after delete');
});
