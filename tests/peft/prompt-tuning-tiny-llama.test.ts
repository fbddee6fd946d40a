// Prompt tuning on the shipped base model: the Trainer trains TEXT-initialised virtual tokens on the bundled
// fortune instructions (chat template, loss on the answers); the held-out loss goes down and nothing but the
// prompt embeddings moves.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PromptTuningConfig } from '../../src/peft/tuners/prompt-tuning/config.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { buildChatExample, dataCollator, readJsonl, Trainer, type Batch, type Example } from '../../src/train/index.js';
import type { Tokenizer } from '../../src/tokenizers/index.js';
import { repoRoot } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp.js';

const MODEL = join(repoRoot, 'models', 'tiny-llama');

/** Every 8th instruction (the file runs topic by topic), at most 32 tokens each. */
async function instructionExamples(tokenizer: Tokenizer, count: number): Promise<Example[]> {
  const examples: Example[] = [];
  let i = 0;
  for await (const r of readJsonl(join(repoRoot, 'data', 'fortunes', 'instructions.jsonl'))) {
    if (i++ % 8 === 0 && examples.length < count) examples.push(buildChatExample(tokenizer, r, { maxLength: 32 }));
  }
  return examples;
}

test('prompt tuning (TEXT init) on models/tiny-llama with the Trainer lowers the held-out loss on data/fortunes instructions; only the prompt moves', async () => {
  const tokenizer = await loadTokenizer(MODEL);
  const model = await AutoModelForCausalLM.fromPretrained(MODEL);
  const base = new Map(model.namedParameters().map(([n, p]) => [n, Float32Array.from(p.toArray())]));
  const config = new PromptTuningConfig({
    taskType: 'CAUSAL_LM',
    numVirtualTokens: 8,
    promptTuningInit: 'TEXT',
    promptTuningInitText: 'A fortune cookie says:',
    tokenizerNameOrPath: 'models/tiny-llama',
  });
  const peft = getPeftModel(model, config, { tokenizer });
  assert.deepEqual(peft.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => n), ['prompt_encoder.default.embedding.weight']);
  const initial = Float32Array.from(peft.getPromptEmbeddingToSave('default').toArray());

  const examples = await instructionExamples(tokenizer, 72);
  const train = examples.slice(0, 56);
  const heldOut = examples.slice(56);
  const collate = dataCollator(tokenizer);
  const loss = (batch: Batch) => peft.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, labels: batch.labels ?? batch.inputIds }).loss!;
  const heldOutLoss = (): number => noGrad(() => {
    peft.eval();
    return loss(collate(heldOut)).item();
  });
  const before = heldOutLoss();

  const tmp = makeTempDir();
  try {
    const trainer = new Trainer<Example, Batch>({
      model: { module: peft, languageModel: true, computeLoss: loss, saveAdapter: (dir) => peft.savePretrained(dir) },
      trainData: train,
      collate,
      args: { outputDir: tmp.dir, disableTqdm: true, maxSteps: 14, perDeviceTrainBatchSize: 8, learningRate: 0.03, lrSchedulerType: 'constant', weightDecay: 0, saveSteps: 0, loggingSteps: 7, seed: 3 },
    });
    await trainer.train();
  } finally {
    tmp.remove();
  }
  const after = heldOutLoss();
  assert.ok(after < before - 0.04, `held-out loss ${before} → ${after}`);
  const trained = peft.getPromptEmbeddingToSave('default').toArray();
  assert.ok(trained.some((x, i) => x !== initial[i]), 'the prompt embeddings moved');
  for (const [name, p] of model.namedParameters()) assert.deepEqual(p.toArray(), base.get(name), `${name} is unchanged`);
});
