// `peftjs train`: LoRA fine-tuning of a causal LM from a model folder on a text or JSONL file, with
// the Trainer (progress, metrics.jsonl, loss.svg, checkpoints, resume); the adapter is saved as PEFT
// saves it (adapter_config.json + adapter_model.safetensors) into --output.
import { extname } from 'node:path';
import { AutoModelForCausalLM } from '../models/index.js';
import { getPeftModel } from '../peft/mapping-func.js';
import { LoraConfig } from '../peft/tuners/lora/config.js';
import { formatTrainableParameters } from '../peft/peft-model.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { buildChatExample, collect, dataCollator, packRecords, readJsonl, readTextDocuments, splitTrainValidation, type Batch, type DataRecord, type Example } from '../train/data/index.js';
import { Trainer } from '../train/trainer.js';
import { CliError, type Options, type VerbSpec } from './args.js';

export const trainVerb: VerbSpec = {
  name: 'train',
  summary: 'Fine-tune a causal LM with LoRA on a .txt or .jsonl file and save the adapter.',
  usage: 'train --model <dir> --data <file.jsonl|.txt> --output <dir> [options]',
  options: [
    { name: 'model', type: 'string', placeholder: 'dir', description: 'base model folder (config.json + weights)', required: true },
    { name: 'tokenizer', type: 'string', placeholder: 'dir', description: 'tokenizer folder (default: the model folder)' },
    { name: 'data', type: 'string', placeholder: 'file', description: '.txt (documents separated by blank lines, packed) or .jsonl ({text}, {prompt, completion} or {messages})', required: true },
    { name: 'task', type: 'string', description: 'the task; only causal-lm (default)' },
    { name: 'output', type: 'string', placeholder: 'dir', description: 'folder for checkpoints, metrics and the final adapter', required: true },
    { name: 'r', type: 'number', description: 'LoRA rank (default 8)' },
    { name: 'lora-alpha', type: 'number', description: 'LoRA alpha (default 16)' },
    { name: 'lora-dropout', type: 'number', description: 'LoRA dropout (default 0)' },
    { name: 'target-modules', type: 'list', placeholder: 'a,b', description: "modules to adapt (default: PEFT's for the model type)" },
    { name: 'learning-rate', type: 'number', description: 'peak learning rate (default 2e-4)' },
    { name: 'max-steps', type: 'number', description: 'optimizer steps (default: by --epochs)' },
    { name: 'epochs', type: 'number', description: 'epochs when --max-steps is not given (default 3)' },
    { name: 'batch-size', type: 'number', description: 'examples per micro-batch (default 8)' },
    { name: 'gradient-accumulation-steps', type: 'number', description: 'micro-batches per optimizer step (default 1)' },
    { name: 'block-size', type: 'number', description: 'tokens per example (default: the tokenizer and model limits, at most 512)' },
    { name: 'warmup-steps', type: 'number', description: 'warm-up steps, or a ratio of the steps when < 1 (default 0)' },
    { name: 'lr-scheduler', type: 'string', description: 'linear (default), cosine, constant or constant_with_warmup' },
    { name: 'validation-size', type: 'number', description: 'examples held out for evaluation (count, or ratio when < 1; default none)' },
    { name: 'logging-steps', type: 'number', description: 'steps between log entries (default 10)' },
    { name: 'save-steps', type: 'number', description: 'steps between checkpoints (default 500)' },
    { name: 'save-total-limit', type: 'number', description: 'checkpoints kept (default all)' },
    { name: 'seed', type: 'number', description: 'random seed (default 42)' },
    { name: 'resume', type: 'boolean', description: 'continue from the latest checkpoint in --output' },
    { name: 'progress', type: 'boolean', description: 'print progress (default true)' },
  ],
};

async function readRecords(path: string): Promise<DataRecord[]> {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl') return collect(readJsonl(path));
  if (ext === '.txt') return collect(readTextDocuments(path));
  throw new CliError(`--data: expected a .jsonl or .txt file, got ${path}`);
}

function buildExamples(tokenizer: Tokenizer, records: readonly DataRecord[], blockSize: number, data: string): Example[] {
  if (records.length === 0) throw new CliError(`--data: ${data} holds no records`);
  const packed = records.every((r) => typeof r.data['text'] === 'string');
  const examples = packed ? packRecords(tokenizer, records, { blockSize }) : records.map((r) => buildChatExample(tokenizer, r, { maxLength: blockSize }));
  if (examples.length === 0) throw new CliError(`--data: ${data} has fewer than --block-size ${blockSize} tokens, so no block can be packed`);
  return examples;
}

function defaultBlockSize(tokenizer: Tokenizer, raw: Record<string, unknown>): number {
  const limits = [512, tokenizer.modelMaxLength, raw['max_position_embeddings']].filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  return Math.min(...limits);
}

export async function runTrain(opts: Options, _positionals: readonly string[], out: NodeJS.WritableStream): Promise<number> {
  const task = opts.string('task') ?? 'causal-lm';
  if (task !== 'causal-lm') throw new CliError(`--task: only causal-lm is supported, got ${JSON.stringify(task)}`);
  const modelDir = opts.requireString('model');
  const data = opts.requireString('data');
  const output = opts.requireString('output');
  const tokenizer = await loadTokenizer(opts.string('tokenizer') ?? modelDir);
  const model = await AutoModelForCausalLM.fromPretrained(modelDir);
  const blockSize = opts.number('block-size') ?? defaultBlockSize(tokenizer, model.config.raw);
  if (!(Number.isInteger(blockSize) && blockSize > 0)) throw new CliError(`--block-size must be a positive integer, got ${blockSize}`);
  const examples = buildExamples(tokenizer, await readRecords(data), blockSize, data);
  const seed = opts.number('seed') ?? 42;
  const validationSize = opts.number('validation-size');
  const { train, validation } = validationSize === undefined ? { train: examples, validation: undefined } : splitTrainValidation(examples, { validationSize, seed });

  const config = new LoraConfig({
    taskType: 'CAUSAL_LM',
    r: opts.number('r') ?? 8,
    loraAlpha: opts.number('lora-alpha') ?? 16,
    loraDropout: opts.number('lora-dropout') ?? 0,
    targetModules: opts.list('target-modules') ?? null,
  });
  const peft = getPeftModel(model, config);
  const { trainable, all } = peft.getNbTrainableParameters();
  const progress = opts.boolean('progress') ?? true;
  if (progress) out.write(`${examples.length} examples of at most ${blockSize} tokens; ${formatTrainableParameters(trainable, all)}\n`);

  const maxSteps = opts.number('max-steps');
  const args: Record<string, unknown> = {
    outputDir: output,
    learningRate: opts.number('learning-rate') ?? 2e-4,
    numTrainEpochs: opts.number('epochs') ?? 3,
    perDeviceTrainBatchSize: opts.number('batch-size') ?? 8,
    gradientAccumulationSteps: opts.number('gradient-accumulation-steps') ?? 1,
    warmupSteps: opts.number('warmup-steps') ?? 0,
    lrSchedulerType: opts.string('lr-scheduler') ?? 'linear',
    loggingSteps: opts.number('logging-steps') ?? 10,
    saveSteps: opts.number('save-steps') ?? 500,
    seed,
    resumeFromCheckpoint: opts.boolean('resume') ?? false,
    disableTqdm: !progress,
  };
  if (maxSteps !== undefined) args['maxSteps'] = maxSteps;
  if (opts.has('save-total-limit')) args['saveTotalLimit'] = opts.number('save-total-limit');
  if (validation !== undefined) args['evalSteps'] = args['saveSteps'];
  const trainer = new Trainer<Example, Batch>({
    model: {
      module: peft,
      languageModel: true,
      computeLoss: (batch) => peft.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, labels: batch.labels ?? batch.inputIds }).loss!,
      saveAdapter: (dir) => peft.savePretrained(dir),
    },
    trainData: train,
    ...(validation === undefined ? {} : { evalData: validation }),
    collate: dataCollator(tokenizer),
    args,
    output: out,
  });
  const result = await trainer.train();
  if (result.interrupted) return 130;
  if (progress) out.write(`saved the adapter to ${output} (train loss ${result.trainingLoss.toFixed(4)}, ${result.globalStep} steps)\n`);
  return 0;
}
