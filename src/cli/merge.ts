// `peftjs merge`: folds a LoRA adapter into its base model's weights and saves a plain transformers
// model folder (config.json + model.safetensors), with the base folder's tokenizer and generation files.
import { copyFileSync, existsSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveAdapterFolder } from '../io/adapter-folder.js';
import { commitFiles } from '../io/atomic-folder.js';
import {
  AutoModel, AutoModelForCausalLM, AutoModelForQuestionAnswering, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoModelForTokenClassification,
  PreTrainedModel, type AutoModelClass,
} from '../models/index.js';
import { MergeError } from '../peft/errors.js';
import { PeftModel } from '../peft/peft-model.js';
import { allFinite } from '../peft/tuners/base-tuner-layer.js';
import { CliError, type Options, type VerbSpec } from './args.js';
import { loadTaskModel, readLabels } from './task-model.js';

export const mergeVerb: VerbSpec = {
  name: 'merge',
  summary: 'Merge a LoRA adapter into its base model and save a transformers model folder.',
  usage: 'merge --model <dir> --adapter <dir> --output <dir>',
  options: [
    { name: 'model', type: 'string', placeholder: 'dir', description: 'base model folder', required: true },
    { name: 'adapter', type: 'string', placeholder: 'dir', description: 'PEFT adapter folder (adapter_config.json + weights)', required: true },
    { name: 'output', type: 'string', placeholder: 'dir', description: 'folder for the merged model', required: true },
    { name: 'safe-merge', type: 'boolean', description: 'check each merged layer for NaN/Inf before keeping it (default true); the saved model is always checked' },
  ],
};

/** The model class PEFT's task types stand for; adapters without one get the bare model. */
const AUTO_CLASS_OF_TASK: Readonly<Record<string, AutoModelClass>> = {
  CAUSAL_LM: AutoModelForCausalLM,
  SEQ_CLS: AutoModelForSequenceClassification,
  TOKEN_CLS: AutoModelForTokenClassification,
  QUESTION_ANS: AutoModelForQuestionAnswering,
  SEQ_2_SEQ_LM: AutoModelForSeq2SeqLM,
  FEATURE_EXTRACTION: AutoModel,
};

/** Files a model folder carries besides its weights and config (tokenizer, chat template, generation defaults). */
const COMPANION_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'chat_template.jinja', 'chat_template.json',
  'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer.model', 'spiece.model', 'generation_config.json',
];

/** The folder's real path, or the absolute path when it does not exist yet. */
function realFolder(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Refuses an --output that is a file, or the --model or --adapter folder (the merged files would replace or mix with theirs). */
function checkOutput(output: string, modelDir: string, adapterDir: string): void {
  if (output === '') throw new CliError('--output: expected a folder for the merged model, got an empty path');
  if (statSync(output, { throwIfNoEntry: false })?.isDirectory() === false) throw new CliError(`--output: ${output} is a file; expected a folder for the merged model`);
  const target = realFolder(output);
  if (target === realFolder(modelDir)) throw new CliError(`--output: ${output} is the --model folder; the merged weights would replace the base model's, so give another folder`);
  if (target === realFolder(adapterDir)) throw new CliError(`--output: ${output} is the --adapter folder; give another folder for the merged model`);
}

/** Names of the float tensors of `model` holding NaN or infinite values. */
function nonFiniteTensors(model: PreTrainedModel): string[] {
  const bad: string[] = [];
  for (const [name, t] of model.stateDict()) {
    if (t.dtype === 'int32') continue;
    if (!allFinite(t.dtype === 'float32' ? t.data() : t.toArray())) bad.push(name);
  }
  return bad;
}

export async function runMerge(opts: Options, _positionals: readonly string[], out: NodeJS.WritableStream): Promise<void> {
  const modelDir = opts.requireString('model');
  const adapterDir = opts.requireString('adapter');
  const output = opts.requireString('output');
  checkOutput(output, modelDir, adapterDir);
  const folder = await resolveAdapterFolder(adapterDir);
  const taskType = folder.config['task_type'];
  const auto = typeof taskType === 'string' ? AUTO_CLASS_OF_TASK[taskType] : AutoModel;
  if (auto === undefined) throw new CliError(`--adapter: ${folder.configPath} has task_type ${JSON.stringify(taskType)}, which merge does not know (known: ${Object.keys(AUTO_CLASS_OF_TASK).join(', ')})`);
  const base = await loadTaskModel(auto, modelDir, readLabels(folder.dir));
  const peft = await PeftModel.fromPretrained(base, folder.dir);
  const merged = peft.mergeAndUnload({ safeMerge: opts.boolean('safe-merge') ?? true });
  if (!(merged instanceof PreTrainedModel)) throw new CliError(`--model: ${modelDir} did not load as a transformers model`);
  const broken = nonFiniteTensors(merged);
  if (broken.length > 0) {
    const names = `${broken.slice(0, 5).join(', ')}${broken.length > 5 ? `, … (${broken.length} tensors)` : ''}`;
    throw new MergeError(broken[0]!, peft.activeAdapter, `the merged model holds NaN or infinite values in ${names}; the weights of --adapter ${adapterDir} or --model ${modelDir} are broken, and nothing was written to ${output}`);
  }
  const copied = COMPANION_FILES.filter((f) => existsSync(join(modelDir, f)));
  commitFiles(output, (stage) => {
    merged.savePretrained(stage);
    for (const f of copied) copyFileSync(join(modelDir, f), join(stage, f));
  });
  out.write(`merged ${folder.dir} into ${modelDir}; saved ${output} (model.safetensors, config.json${copied.map((f) => `, ${f}`).join('')})\n`);
}
