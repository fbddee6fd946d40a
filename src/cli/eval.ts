// `peftjs eval`: a model folder, with or without an adapter, scored on a data file for its task —
// loss for all; perplexity (causal-lm); accuracy and macro F1 (seq-cls, and over the labelled tokens
// for token-cls); SQuAD exact match and F1 of the best answer span (qa); and with --generate the exact
// match of greedy generations (seq2seq). Prints a table, or one JSON object with --json.
import { manualSeed } from '../engine/index.js';
import {
  evaluateCausalLm, evaluateQuestionAnswering, evaluateSeq2Seq, evaluateSequenceClassification, evaluateTokenClassification, generationExactMatch,
} from '../eval/index.js';
import { resolveAdapterFolder } from '../io/adapter-folder.js';
import type { PreTrainedModel } from '../models/index.js';
import { PeftModel } from '../peft/peft-model.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { dataCollator, type DataRecord, type LabelMap } from '../train/data/index.js';
import { CliError, type Options, type VerbSpec } from './args.js';
import { labelsOfRecords, readTaskRecords, TaskExamples } from './task-examples.js';
import { loadTaskModel, modelFolderLabels, readLabels } from './task-model.js';
import { checkTaskOptions, taskDataOptions } from './task-options.js';
import { TASK_NAMES, taskOption, type Task } from './tasks.js';

export const evalVerb: VerbSpec = {
  name: 'eval',
  summary: 'Evaluate a model (with an adapter) on a data file: loss and the task metrics.',
  usage: 'eval --model <dir> [--adapter <dir>] --data <file> [--task <task>] [options]',
  options: [
    { name: 'model', type: 'string', placeholder: 'dir', description: 'base model folder (config.json + weights)', required: true },
    { name: 'adapter', type: 'string', placeholder: 'dir', description: 'PEFT adapter folder applied to the model (default none)' },
    { name: 'tokenizer', type: 'string', placeholder: 'dir', description: 'tokenizer folder (default: the model folder)' },
    { name: 'task', type: 'string', description: `${TASK_NAMES.join(', ')} (default causal-lm)` },
    { name: 'data', type: 'string', placeholder: 'file', description: 'records in the format `peftjs train` reads for the task', required: true },
    ...taskDataOptions,
    { name: 'batch-size', type: 'number', description: 'examples per forward pass (default 8)' },
    { name: 'max-answer-length', type: 'number', description: 'qa: longest answer in tokens (default 30)' },
    { name: 'n-best', type: 'number', description: 'qa: start and end candidates per window (default 20)' },
    { name: 'generate', type: 'boolean', description: 'seq2seq: also score greedy generations by exact match with the targets (default false)' },
    { name: 'max-new-tokens', type: 'number', description: 'seq2seq with --generate: tokens generated at most (default 64)' },
    { name: 'seed', type: 'number', description: 'random seed of a head the model folder lacks (default 42)' },
    { name: 'json', type: 'boolean', description: 'print one JSON object instead of a table' },
  ],
};

const TASK_ONLY: readonly [string, Task['name']][] = [['max-answer-length', 'qa'], ['n-best', 'qa'], ['generate', 'seq2seq'], ['max-new-tokens', 'seq2seq']];

interface LoadedModel {
  model: PeftModel | PreTrainedModel;
  base: PreTrainedModel;
  labels: LabelMap | null;
}

/**
 * The task's model with the adapter applied. Classification labels come from the adapter's
 * labels.json, else the model folder's config.json (a merged model), else the data.
 */
async function loadModel(task: Task, opts: Options, records: readonly DataRecord[]): Promise<LoadedModel> {
  const modelDir = opts.requireString('model');
  const adapter = opts.string('adapter');
  const folder = adapter === undefined ? null : await resolveAdapterFolder(adapter);
  if (folder !== null && folder.config['task_type'] !== task.taskType) {
    throw new CliError(`--adapter: ${folder.configPath} has task_type ${JSON.stringify(folder.config['task_type'] ?? null)}; --task ${task.name} needs ${task.taskType}`);
  }
  const labels = task.labelled ? ((folder === null ? null : readLabels(folder.dir)) ?? (await modelFolderLabels(modelDir)) ?? labelsOfRecords(task, opts, records)) : null;
  manualSeed(opts.nonNegativeInteger('seed') ?? 42);
  const base = await loadTaskModel(task.auto, modelDir, labels);
  return { model: folder === null ? base : await PeftModel.fromPretrained(base, folder.dir), base, labels };
}

async function evaluate(task: Task, opts: Options): Promise<{ count: number; metrics: Record<string, number> }> {
  checkTaskOptions(opts, task);
  for (const [name, only] of TASK_ONLY) if (opts.has(name) && task.name !== only) throw new CliError(`--${name} applies to --task ${only}, not ${task.name}`);
  const modelDir = opts.requireString('model');
  const data = opts.requireString('data');
  const tokenizer = await loadTokenizer(opts.string('tokenizer') ?? modelDir);
  const records = await readTaskRecords(task, data, '--data');
  const { model, base, labels } = await loadModel(task, opts, records);
  const examples = new TaskExamples(task, tokenizer, opts, base.config.raw);
  const loop = { collate: dataCollator(tokenizer), batchSize: opts.positiveInteger('batch-size') ?? 8 };
  switch (task.name) {
    case 'causal-lm': {
      const built = examples.build(records, null, data);
      const m = evaluateCausalLm(model, built, loop);
      return { count: built.length, metrics: { eval_loss: m.loss, eval_perplexity: m.perplexity } };
    }
    case 'seq-cls':
    case 'token-cls': {
      const built = examples.build(records, labels, data);
      const m = (task.name === 'seq-cls' ? evaluateSequenceClassification : evaluateTokenClassification)(model, built, loop);
      return { count: built.length, metrics: { eval_loss: m.loss, eval_accuracy: m.accuracy, eval_macro_f1: m.macroF1 } };
    }
    case 'qa': {
      const questions = examples.qaQuestions(records);
      const span = { nBest: opts.positiveInteger('n-best') ?? 20, maxAnswerLength: opts.positiveInteger('max-answer-length') ?? 30 };
      const m = evaluateQuestionAnswering(model, questions, { ...loop, ...span });
      return { count: questions.length, metrics: { eval_loss: m.loss, eval_exact_match: m.exactMatch, eval_f1: m.f1 } };
    }
    case 'seq2seq': {
      const built = examples.build(records, null, data);
      const metrics: Record<string, number> = { eval_loss: evaluateSeq2Seq(model, built, loop).loss };
      if (opts.boolean('generate') ?? false) {
        const maxNewTokens = opts.positiveInteger('max-new-tokens') ?? 64;
        metrics['eval_exact_match'] = await generationExactMatch(model, built.map((e) => e.inputIds), examples.targets(records), { tokenizer, maxNewTokens, batchSize: loop.batchSize });
      }
      return { count: built.length, metrics };
    }
  }
}

/** The verb as main.ts lists it. */
export const evalCommand = { spec: evalVerb, run: runEval };

export async function runEval(opts: Options, _positionals: readonly string[], out: NodeJS.WritableStream): Promise<void> {
  const task = taskOption(opts);
  const data = opts.requireString('data');
  const { count, metrics } = await evaluate(task, opts);
  if (opts.boolean('json') ?? false) {
    out.write(`${JSON.stringify({ task: task.name, data, examples: count, ...metrics })}\n`);
    return;
  }
  const width = Math.max(...Object.keys(metrics).map((k) => k.length));
  out.write(`${task.name} on ${data}: ${count} ${task.name === 'qa' ? 'questions' : 'examples'}\n`);
  for (const [k, v] of Object.entries(metrics)) out.write(`  ${k.padEnd(width)}  ${v.toFixed(4)}\n`);
}
