// What `peftjs train` trains: the task's model (seeded, so a new head and the adapter weights start the
// same for the same --seed) wrapped by getPeftModel with the adapter config of peft-options.ts and the
// task's PEFT task_type — which puts the classification or QA head into modules_to_save as PEFT does —
// and the train and validation examples. Classification labels are the sorted names in the training
// records, saved as labels.json beside the adapter. AdaLoRA adapters get their rank allocation after
// each optimizer step, as PEFT's AdaLoRA examples call it by hand.
import { manualSeed } from '../engine/index.js';
import { getPeftModel } from '../peft/mapping-func.js';
import type { PeftModel } from '../peft/peft-model.js';
import { PeftType } from '../peft/utils/peft-types.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { splitTrainValidation, type Example, type LabelMap } from '../train/data/index.js';
import type { TrainerCallbacks } from '../train/trainable.js';
import { CliError, type Options } from './args.js';
import { peftConfigOption } from './peft-options.js';
import { labelsOfRecords, readTaskRecords, TaskExamples } from './task-examples.js';
import { loadTaskModel, writeLabels } from './task-model.js';
import { checkTaskOptions } from './task-options.js';
import { taskOption, type Task } from './tasks.js';

export interface TrainingSetup {
  task: Task;
  tokenizer: Tokenizer;
  peft: PeftModel;
  /** seq-cls and token-cls: the label names, in id order. */
  labels: LabelMap | null;
  train: Example[];
  validation: Example[] | undefined;
  /** Tokens per example (causal-lm: per block). */
  maxLength: number;
  /** Writes the adapter (and labels.json for classification) into an existing folder. */
  saveAdapter(dir: string): void;
  /** What the adapter's method needs from the Trainer. */
  callbacks: TrainerCallbacks[];
}

/**
 * AdaLoRA: updateAndAllocate after every optimizer step, while the step's gradients are still there. Its rank
 * allocator (sensitivity averages, the final rank_pattern) lives outside the checkpoint, so --resume is refused
 * rather than continuing with an allocation that no longer matches the run.
 */
function methodCallbacks(peft: PeftModel, resuming: boolean): TrainerCallbacks[] {
  if (peft.activePeftConfig.peftType !== PeftType.ADALORA) return [];
  if (resuming) {
    throw new CliError("--resume: AdaLoRA's rank allocator (its sensitivity averages and final rank_pattern) is not saved in checkpoints, so a resumed run cannot continue its rank allocation; train again without --resume");
  }
  return [{ onOptimizerStep: (state) => peft.updateAndAllocate(state.globalStep) }];
}

export async function prepareTraining(opts: Options): Promise<TrainingSetup> {
  const task = taskOption(opts);
  checkTaskOptions(opts, task);
  const config = peftConfigOption(opts, task);
  const modelDir = opts.requireString('model');
  const data = opts.requireString('data');
  const validationData = opts.string('validation-data');
  const validationSize = opts.number('validation-size');
  if (validationData !== undefined && validationSize !== undefined) throw new CliError('give --validation-data or --validation-size, not both');
  if (validationSize !== undefined && !(validationSize > 0 && (validationSize < 1 || Number.isSafeInteger(validationSize)))) {
    throw new CliError(`--validation-size: expected a count of examples (a whole number ≥ 1) or a ratio in (0, 1), got ${validationSize}`);
  }
  const seed = opts.nonNegativeInteger('seed') ?? 42;
  const tokenizer = await loadTokenizer(opts.string('tokenizer') ?? modelDir);
  const records = await readTaskRecords(task, data, '--data');
  const validationRecords = validationData === undefined ? undefined : await readTaskRecords(task, validationData, '--validation-data');

  const labels = task.labelled ? labelsOfRecords(task, opts, records) : null;
  manualSeed(seed);
  const model = await loadTaskModel(task.auto, modelDir, labels);
  const examples = new TaskExamples(task, tokenizer, opts, model.config.raw);
  const built = examples.build(records, labels, data);
  const { train, validation } =
    validationRecords !== undefined ? { train: built, validation: examples.build(validationRecords, labels, validationData!) }
    : validationSize !== undefined ? splitTrainValidation(built, { validationSize, seed })
    : { train: built, validation: undefined };

  // The training tokenizer also encodes prompt tuning's init text (TEXT init).
  const peft = getPeftModel(model, config, { tokenizer });
  return {
    task, tokenizer, peft, labels, train, validation, maxLength: examples.maxLength,
    saveAdapter: (dir) => {
      peft.savePretrained(dir);
      if (labels !== null) writeLabels(dir, labels);
    },
    callbacks: methodCallbacks(peft, opts.boolean('resume') ?? false),
  };
}
