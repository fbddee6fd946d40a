// Pretrains the shipped base model with peft.js's own engine: a small Llama-architecture causal LM
// (tied embeddings, GQA) on the corpus made by prepare_corpus.py, with the tokenizer made by
// train_tokenizer.py. Writes a transformers model folder (config.json, model.safetensors,
// generation_config.json, tokenizer files) that transformers loads as it is.
// Usage: node dist/tools/base-model/pretrain.js <corpus.txt> <tokenizer-dir> <out-dir> [maxSteps]
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CausalLmPacker, dataCollator, Generator, LlamaForCausalLM, loadTokenizer, randn, scope, splitTrainValidation, Trainer,
  type Batch, type Example,
} from '../../src/index.js';

const [corpusPath, tokenizerDir, outDir, stepsArg] = process.argv.slice(2);
if (corpusPath === undefined || tokenizerDir === undefined || outDir === undefined) {
  console.error('usage: pretrain.js <corpus.txt> <tokenizer-dir> <out-dir> [maxSteps]');
  process.exit(2);
}
const maxSteps = Number(stepsArg ?? 3000);
const BLOCK = 128;

const tokenizer = await loadTokenizer(tokenizerDir);
const eos = tokenizer.eosTokenId!;
const config = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 4096,
  hidden_size: 256,
  intermediate_size: 688,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  hidden_act: 'silu',
  tie_word_embeddings: true,
  initializer_range: 0.02,
  bos_token_id: eos,
  eos_token_id: eos,
  pad_token_id: eos,
  torch_dtype: 'float32',
};

const packer = new CausalLmPacker(tokenizer, { blockSize: BLOCK, addSpecialTokens: false });
const blocks: Example[] = [];
for (const doc of readFileSync(corpusPath, 'utf8').split('\n\n')) if (doc.trim() !== '') blocks.push(...packer.addText(doc));
const { train, validation } = splitTrainValidation(blocks, { validationSize: 64, seed: 0 });
console.log(`${blocks.length} blocks of ${BLOCK} tokens (${train.length} train, ${validation.length} validation)`);

const model = LlamaForCausalLM.fromConfig(config);
// transformers' initialisation for training from scratch: every matrix N(0, initializer_range²),
// norms at one (the tied embedding thus starts small, so the first logits are near uniform).
const init = new Generator(0);
for (const [, p] of model.namedParameters()) {
  if (p.ndim === 2) scope(() => p.data().set(randn(p.shape, { std: config.initializer_range, generator: init }).data()));
}
model.train();
const trainer = new Trainer<Example, Batch>({
  model: {
    module: model,
    languageModel: true,
    computeLoss: (batch) => model.forward({ inputIds: batch.inputIds, labels: batch.labels ?? batch.inputIds }).loss!,
    saveAdapter: (dir) => model.savePretrained(dir),
  },
  trainData: train,
  evalData: validation,
  collate: dataCollator(tokenizer),
  args: {
    outputDir: join(outDir, 'checkpoints'),
    maxSteps,
    perDeviceTrainBatchSize: 16,
    learningRate: 3e-3,
    weightDecay: 0.1,
    lrSchedulerType: 'cosine',
    warmupSteps: 100,
    loggingSteps: 25,
    evalSteps: 500,
    saveSteps: 500,
    saveTotalLimit: 1,
    seed: 0,
  },
});
await trainer.train();
mkdirSync(outDir, { recursive: true });
model.savePretrained(outDir);
for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerDir, f), join(outDir, f));
writeFileSync(join(outDir, 'generation_config.json'), `${JSON.stringify({ bos_token_id: eos, eos_token_id: eos, pad_token_id: eos, max_new_tokens: 48 }, null, 2)}\n`);
console.log(`saved ${outDir}`);
