// `peftjs train`: fine-tuning of a model folder with LoRA, or the method of --peft-config, for one of
// the tasks of tasks.ts on a data file, with the Trainer (progress, metrics.jsonl, loss.svg, checkpoints,
// resume); the adapter is saved as PEFT saves it (adapter_config.json + adapter_model.safetensors, heads
// in modules_to_save) into --output, with labels.json for classification tasks.
import { formatTrainableParameters, type PeftModel } from '../peft/peft-model.js';
import { dataCollator, type Batch, type Example } from '../train/data/index.js';
import { Trainer, type TrainOutput } from '../train/trainer.js';
import type { Options, VerbSpec } from './args.js';
import { peftOptions } from './peft-options.js';
import { taskDataOptions } from './task-options.js';
import { TASK_NAMES } from './tasks.js';
import { prepareTraining } from './train-setup.js';

export const trainVerb: VerbSpec = {
  name: 'train',
  summary: 'Fine-tune a model with LoRA or another PEFT method for a task (causal LM, classification, tagging, QA, seq2seq) and save the adapter.',
  usage: 'train --model <dir> --data <file> --output <dir> [--task <task>] [--peft-config <file>] [options]',
  options: [
    { name: 'model', type: 'string', placeholder: 'dir', description: 'base model folder (config.json + weights)', required: true },
    { name: 'tokenizer', type: 'string', placeholder: 'dir', description: 'tokenizer folder (default: the model folder)' },
    { name: 'task', type: 'string', description: `${TASK_NAMES.join(', ')} (default causal-lm)` },
    {
      name: 'data', type: 'string', placeholder: 'file', required: true,
      description: 'causal-lm: .txt (documents separated by blank lines, packed) or .jsonl ({text}, {prompt, completion} or {messages}); other tasks: .jsonl (seq-cls and seq2seq also .csv)',
    },
    { name: 'validation-data', type: 'string', placeholder: 'file', description: 'held-out records in the --data format, evaluated every --save-steps and at the end' },
    { name: 'validation-size', type: 'number', description: 'examples of --data held out instead (count, or ratio when < 1; default none)' },
    { name: 'output', type: 'string', placeholder: 'dir', description: 'folder for checkpoints, metrics and the final adapter', required: true },
    ...taskDataOptions,
    ...peftOptions,
    { name: 'learning-rate', type: 'number', description: 'peak learning rate (default 2e-4)' },
    { name: 'max-steps', type: 'number', description: 'optimizer steps (default: by --epochs)' },
    { name: 'epochs', type: 'number', description: 'epochs when --max-steps is not given (default 3)' },
    { name: 'batch-size', type: 'number', description: 'examples per micro-batch (default 8)' },
    { name: 'gradient-accumulation-steps', type: 'number', description: 'micro-batches per optimizer step (default 1)' },
    { name: 'warmup-steps', type: 'number', description: 'warm-up steps, or a ratio of the steps when < 1 (default 0)' },
    { name: 'lr-scheduler', type: 'string', description: 'linear (default), cosine, constant or constant_with_warmup' },
    { name: 'logging-steps', type: 'number', description: 'steps between log entries (default 10)' },
    { name: 'save-steps', type: 'number', description: 'steps between checkpoints (default 500)' },
    { name: 'save-total-limit', type: 'number', description: 'checkpoints kept (default all)' },
    { name: 'seed', type: 'number', description: 'random seed of the data order, a new head and the adapter weights (default 42)' },
    { name: 'resume', type: 'boolean', description: 'continue from the latest checkpoint in --output' },
    { name: 'progress', type: 'boolean', description: 'print progress (default true)' },
  ],
};

/** Trains as the options say; returns the trained model and the Trainer's result. */
export async function trainFromOptions(opts: Options, out: NodeJS.WritableStream): Promise<{ peft: PeftModel; result: TrainOutput }> {
  const setup = await prepareTraining(opts);
  const { peft, train, validation, task } = setup;
  const output = opts.requireString('output');
  const { trainable, all } = peft.getNbTrainableParameters();
  const progress = opts.boolean('progress') ?? true;
  if (progress) out.write(`${train.length + (validation?.length ?? 0)} examples of at most ${setup.maxLength} tokens; ${formatTrainableParameters(trainable, all)}\n`);

  const maxSteps = opts.number('max-steps');
  const args: Record<string, unknown> = {
    outputDir: output,
    learningRate: opts.number('learning-rate') ?? 2e-4,
    numTrainEpochs: opts.number('epochs') ?? 3,
    perDeviceTrainBatchSize: opts.number('batch-size') ?? 8,
    perDeviceEvalBatchSize: opts.number('batch-size') ?? 8,
    gradientAccumulationSteps: opts.number('gradient-accumulation-steps') ?? 1,
    warmupSteps: opts.number('warmup-steps') ?? 0,
    lrSchedulerType: opts.string('lr-scheduler') ?? 'linear',
    loggingSteps: opts.number('logging-steps') ?? 10,
    saveSteps: opts.number('save-steps') ?? 500,
    seed: opts.number('seed') ?? 42,
    resumeFromCheckpoint: opts.boolean('resume') ?? false,
    disableTqdm: !progress,
  };
  if (maxSteps !== undefined) args['maxSteps'] = maxSteps;
  if (opts.has('save-total-limit')) args['saveTotalLimit'] = opts.number('save-total-limit');
  if (validation !== undefined) args['evalSteps'] = args['saveSteps'];
  const trainer = new Trainer<Example, Batch>({
    model: {
      module: peft,
      languageModel: task.name === 'causal-lm',
      computeLoss: (batch) => peft.forward({ ...batch }).loss!,
      saveAdapter: setup.saveAdapter,
    },
    trainData: train,
    ...(validation === undefined ? {} : { evalData: validation }),
    collate: dataCollator(setup.tokenizer),
    args,
    callbacks: setup.callbacks,
    output: out,
  });
  return { peft, result: await trainer.train() };
}

export async function runTrain(opts: Options, _positionals: readonly string[], out: NodeJS.WritableStream): Promise<number> {
  const { result } = await trainFromOptions(opts, out);
  if (result.interrupted) return 130;
  if (opts.boolean('progress') ?? true) out.write(`saved the adapter to ${opts.requireString('output')} (train loss ${result.trainingLoss.toFixed(4)}, ${result.globalStep} steps)\n`);
  return 0;
}
