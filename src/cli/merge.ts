// `peftjs merge`: folds a LoRA adapter into its base model's weights and saves a plain transformers
// model folder (config.json + model.safetensors), with the base folder's tokenizer and generation files.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveAdapterFolder } from '../io/adapter-folder.js';
import {
  AutoModel, AutoModelForCausalLM, AutoModelForQuestionAnswering, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoModelForTokenClassification,
  PreTrainedModel, type AutoModelClass,
} from '../models/index.js';
import { PeftModel } from '../peft/peft-model.js';
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
    { name: 'safe-merge', type: 'boolean', description: 'check the merged weights for NaN/Inf before keeping them (default false)' },
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

export async function runMerge(opts: Options, _positionals: readonly string[], out: NodeJS.WritableStream): Promise<void> {
  const modelDir = opts.requireString('model');
  const adapterDir = opts.requireString('adapter');
  const output = opts.requireString('output');
  const folder = await resolveAdapterFolder(adapterDir);
  const taskType = folder.config['task_type'];
  const auto = typeof taskType === 'string' ? AUTO_CLASS_OF_TASK[taskType] : AutoModel;
  if (auto === undefined) throw new CliError(`--adapter: ${folder.configPath} has task_type ${JSON.stringify(taskType)}, which merge does not know (known: ${Object.keys(AUTO_CLASS_OF_TASK).join(', ')})`);
  const base = await loadTaskModel(auto, modelDir, readLabels(folder.dir));
  const peft = await PeftModel.fromPretrained(base, folder.dir);
  const merged = peft.mergeAndUnload({ safeMerge: opts.boolean('safe-merge') ?? false });
  if (!(merged instanceof PreTrainedModel)) throw new CliError(`--model: ${modelDir} did not load as a transformers model`);
  merged.savePretrained(output);
  const copied = COMPANION_FILES.filter((f) => existsSync(join(modelDir, f)));
  for (const f of copied) copyFileSync(join(modelDir, f), join(output, f));
  out.write(`merged ${folder.dir} into ${modelDir}; saved ${output} (model.safetensors, config.json${copied.map((f) => `, ${f}`).join('')})\n`);
}
