import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, resolveModelFolder, SafetensorsFile, saveSafetensors } from '../../src/io/index.js';
import { noGrad, scope, type Tensor } from '../../src/engine/index.js';
import { StateDictError } from '../../src/nn/index.js';
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForMaskedLM,
  AutoModelForQuestionAnswering,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  BertForMaskedLM,
  BertForQuestionAnswering,
  BertForSequenceClassification,
  BertModel,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  GPT2Model,
  ModelConfigError,
  supportedModelTypes,
  type AutoModelClass,
} from '../../src/models/index.js';
import {
  assertOutputsMatch,
  checkModelFixture,
  fixtureInputs,
  loadModelIO,
  modelFixtureCases,
  modelFixtureDir,
} from '../helpers/model-fixtures.js';
import { makeTempDir } from '../helpers/temp.js';

const FAMILIES = ['gpt2', 'bert', 'roberta', 'distilbert'];

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, remove } = makeTempDir();
  try {
    await fn(dir);
  } finally {
    remove();
  }
}

/** The Auto class and the class transformers saved for each case. */
const AUTO: Record<string, [AutoModelClass, string]> = {
  'gpt2-base': [AutoModel, 'GPT2Model'],
  'gpt2-lm': [AutoModelForCausalLM, 'GPT2LMHeadModel'],
  'gpt2-lm-options': [AutoModelForCausalLM, 'GPT2LMHeadModel'],
  'gpt2-seqcls': [AutoModelForSequenceClassification, 'GPT2ForSequenceClassification'],
  'gpt2-tokcls': [AutoModelForTokenClassification, 'GPT2ForTokenClassification'],
  'gpt2-qa': [AutoModelForQuestionAnswering, 'GPT2ForQuestionAnswering'],
  'bert-base': [AutoModel, 'BertModel'],
  'bert-seqcls': [AutoModelForSequenceClassification, 'BertForSequenceClassification'],
  'bert-seqcls-regression': [AutoModelForSequenceClassification, 'BertForSequenceClassification'],
  'bert-seqcls-multilabel': [AutoModelForSequenceClassification, 'BertForSequenceClassification'],
  'bert-tokcls': [AutoModelForTokenClassification, 'BertForTokenClassification'],
  'bert-qa': [AutoModelForQuestionAnswering, 'BertForQuestionAnswering'],
  'bert-mlm': [AutoModelForMaskedLM, 'BertForMaskedLM'],
  'roberta-seqcls': [AutoModelForSequenceClassification, 'RobertaForSequenceClassification'],
  'roberta-mlm': [AutoModelForMaskedLM, 'RobertaForMaskedLM'],
  'distilbert-seqcls': [AutoModelForSequenceClassification, 'DistilBertForSequenceClassification'],
  'distilbert-tokcls': [AutoModelForTokenClassification, 'DistilBertForTokenClassification'],
  'distilbert-qa': [AutoModelForQuestionAnswering, 'DistilBertForQuestionAnswering'],
  'distilbert-mlm': [AutoModelForMaskedLM, 'DistilBertForMaskedLM'],
};

test('every fixture case of these families has an Auto class', () => {
  assert.deepEqual(modelFixtureCases(...FAMILIES), Object.keys(AUTO).sort());
  assert.ok(FAMILIES.every((f) => supportedModelTypes().includes(f)));
});

for (const [name, [auto, className]] of Object.entries(AUTO)) {
  test(`${auto.name} loads ${name} as ${className}`, async () => {
    const architectures = JSON.parse(readFileSync(join(modelFixtureDir(name), 'config.json'), 'utf8')).architectures as string[];
    assert.deepEqual(architectures, [className]);
    await checkModelFixture(name, async (dir) => {
      const model = await auto.fromPretrained(dir);
      assert.equal(model.typeName, className);
      assert.equal(model.nameOrPath, dir);
      return model;
    });
  });
}

test('Auto classes reject unknown model types and tasks a family lacks, listing the supported ones', () => {
  const config = { model_type: 'gpt2', vocab_size: 10, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16 };
  assert.throws(() => AutoModel.fromConfig({ ...config, model_type: 'gpt-neo' }), (e: Error) =>
    e instanceof ModelConfigError && /model_type "gpt-neo" is not supported by AutoModel \(supported: .*bert.*distilbert.*gpt2.*roberta/.test(e.message));
  assert.throws(() => AutoModelForMaskedLM.fromConfig(config), (e: Error) =>
    e instanceof ModelConfigError && /"gpt2" is not supported by AutoModelForMaskedLM \(supported: (?!.*gpt2).*bert/.test(e.message));
  assert.throws(() => AutoModelForCausalLM.fromConfig({ ...config, model_type: 'bert' }), /supported: (?!.*bert).*gpt2/);
  const { model_type: _, ...untyped } = config;
  assert.throws(() => AutoModel.fromConfig(untyped, 'm/config.json'), /m\/config\.json: missing required field "model_type"/);
  const model = AutoModelForSequenceClassification.fromConfig({ ...config, num_labels: 4 });
  assert.ok(model instanceof GPT2ForSequenceClassification && model.training);
  assert.deepEqual([...model.getSubmodule('score').parameter('weight')!.shape], [4, 8]);
  model.dispose();
});

/** A copy of a fixture's config and weights, the weights rewritten by `edit`. */
function editedCheckpoint(dir: string, name: string, edit: (tensors: Map<string, Tensor>) => void, config?: (raw: Record<string, unknown>) => void): void {
  const raw = JSON.parse(readFileSync(join(modelFixtureDir(name), 'config.json'), 'utf8')) as Record<string, unknown>;
  config?.(raw);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  const tensors = loadSafetensors(join(modelFixtureDir(name), 'model.safetensors'));
  edit(tensors);
  saveSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(tensors));
  for (const t of tensors.values()) t.dispose();
}

test('a checkpoint missing a backbone weight is refused, naming the key', async () => {
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'gpt2-base', (t) => t.delete('ln_f.weight'));
    await assert.rejects(GPT2Model.fromPretrained(dir), (e: Error) => e instanceof StateDictError && /missing 1 key\(s\): ln_f\.weight/.test(e.message));
    await assert.rejects(GPT2LMHeadModel.fromPretrained(dir), /missing 1 key\(s\): transformer\.ln_f\.weight/);
  });
});

test('unexpected keys and shape mismatches are refused, naming the key', async () => {
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'bert-seqcls', (t) => t.set('bert.encoder.layer.0.attention.self.gate.weight', t.get('classifier.weight')!));
    await assert.rejects(BertForSequenceClassification.fromPretrained(dir), (e: Error) =>
      e instanceof StateDictError && /keys the model does not: bert\.encoder\.layer\.0\.attention\.self\.gate\.weight/.test(e.message));
  });
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'gpt2-lm', () => {}, (raw) => (raw.n_positions = 16));
    await assert.rejects(GPT2LMHeadModel.fromPretrained(dir), (e: Error) =>
      e instanceof StateDictError && /transformer\.wpe\.weight: checkpoint \[32, 32\] vs model \[16, 32\]/.test(e.message));
  });
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'gpt2-lm', () => {}, (raw) => (raw.n_head = 5));
    await assert.rejects(GPT2LMHeadModel.fromPretrained(dir), (e: Error) => e instanceof ModelConfigError && /"n_embd" \(32\) must be divisible by "n_head" \(5\)/.test(e.message));
  });
});

test('keys of other heads and old buffers are skipped; a new head is reported as initialised', async () => {
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'gpt2-lm', (t) => {
      t.set('transformer.h.0.attn.bias', t.get('transformer.ln_f.weight')!);
      t.set('transformer.h.1.attn.masked_bias', t.get('transformer.ln_f.bias')!);
      t.set('lm_head.weight', t.get('transformer.wte.weight')!);
    });
    const model = await GPT2LMHeadModel.fromPretrained(dir);
    model.dispose();
  });
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'bert-mlm', (t) => {
      t.set('cls.seq_relationship.weight', t.get('bert.embeddings.LayerNorm.weight')!);
      t.set('bert.embeddings.position_ids', t.get('bert.embeddings.LayerNorm.bias')!);
    });
    const folder = await resolveModelFolder(dir);
    const model = new BertForSequenceClassification(new BertForSequenceClassification.configClass(folder.config));
    try {
      const report = model.loadWeights(folder.weights);
      assert.deepEqual(report.newlyInitialized, ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias']);
    } finally {
      model.dispose();
    }
  });
  const folder = await resolveModelFolder(modelFixtureDir('bert-base'));
  const mlm = new BertForMaskedLM(new BertForMaskedLM.configClass(folder.config));
  try {
    const report = mlm.loadWeights(folder.weights);
    assert.deepEqual(report.newlyInitialized, [
      'cls.predictions.bias',
      'cls.predictions.transform.dense.weight',
      'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.LayerNorm.bias',
    ]);
  } finally {
    mlm.dispose();
  }
});

test('legacy LayerNorm.gamma / LayerNorm.beta keys load into LayerNorm.weight / bias', async () => {
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'bert-qa', (t) => {
      for (const key of [...t.keys()].filter((k) => /LayerNorm\.(weight|bias)$/.test(k))) {
        t.set(key.replace(/weight$/, 'gamma').replace(/bias$/, 'beta'), t.get(key)!);
        t.delete(key);
      }
    });
    copyFileSync(join(modelFixtureDir('bert-qa'), 'io.safetensors'), join(dir, 'io.safetensors'));
    await checkModelFixture('bert-qa', () => BertForQuestionAnswering.fromPretrained(dir));
  });
});

test('a base model loaded from a task checkpoint leaves the head unused; other strays are refused', async () => {
  const folder = await resolveModelFolder(modelFixtureDir('bert-seqcls'));
  const bert = new BertModel(new BertModel.configClass(folder.config));
  try {
    const report = bert.loadWeights(folder.weights);
    assert.deepEqual(report.unusedKeys.sort(), ['classifier.bias', 'classifier.weight']);
    assert.deepEqual(report.newlyInitialized, []);
  } finally {
    bert.dispose();
  }
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'gpt2-lm', (t) => t.set('transformer.h.0.attn.gate', t.get('transformer.ln_f.weight')!));
    await assert.rejects(GPT2Model.fromPretrained(dir), /keys the model does not: transformer\.h\.0\.attn\.gate/);
  });
  await inTempDir(async (dir) => {
    editedCheckpoint(dir, 'gpt2-base', (t) => t.set('score.weight', t.get('ln_f.weight')!));
    await assert.rejects(GPT2Model.fromPretrained(dir), /keys the model does not: score\.weight/);
  });
});

for (const name of Object.keys(AUTO)) {
  test(`${name}: savePretrained writes transformers' keys and values, and reloads`, async () => {
    const [auto] = AUTO[name]!;
    const model = await auto.fromPretrained(modelFixtureDir(name));
    try {
      await inTempDir(async (dir) => {
        model.savePretrained(dir);
        const ours = SafetensorsFile.open(join(dir, 'model.safetensors'));
        const theirs = SafetensorsFile.open(join(modelFixtureDir(name), 'model.safetensors'));
        try {
          assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
          for (const key of theirs.keys()) assert.deepEqual(ours.readRaw(key).bytes, theirs.readRaw(key).bytes, key);
        } finally {
          ours.close();
          theirs.close();
        }
        assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), JSON.parse(readFileSync(join(modelFixtureDir(name), 'config.json'), 'utf8')));
        copyFileSync(join(modelFixtureDir(name), 'io.safetensors'), join(dir, 'io.safetensors'));
        const reloaded = await auto.fromPretrained(dir);
        const io = loadModelIO(name);
        try {
          if (!io.has('grad.inputs_embeds')) scope(() => assertOutputsMatch(noGrad(() => reloaded.forward(fixtureInputs(io))), io, name));
        } finally {
          reloaded.dispose();
          for (const t of io.values()) t.dispose();
        }
      });
    } finally {
      model.dispose();
    }
  });
}

test('savePretrained into a path that is a file is refused, naming it, and leaves the file alone', async () => {
  const model = await GPT2Model.fromPretrained(modelFixtureDir('gpt2-base'));
  try {
    await inTempDir(async (dir) => {
      const file = join(dir, 'not-a-folder');
      writeFileSync(file, 'x');
      assert.throws(() => model.savePretrained(file), (e: unknown) => e instanceof StateDictError && e.message === `savePretrained: ${file} is not a directory`);
      assert.equal(readFileSync(file, 'utf8'), 'x');
    });
  } finally {
    model.dispose();
  }
});
