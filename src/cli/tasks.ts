// The tasks `peftjs train` and `peftjs eval` know: per --task name, the PEFT task_type (which decides
// the PeftModel class and so the heads kept in modules_to_save), the transformers Auto class that
// loads the model, and whether the task has class labels.
import {
  AutoModelForCausalLM, AutoModelForQuestionAnswering, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoModelForTokenClassification, type AutoModelClass,
} from '../models/index.js';
import { TaskType } from '../peft/utils/peft-types.js';
import { CliError, type Options } from './args.js';

export const TASK_NAMES = ['causal-lm', 'seq-cls', 'token-cls', 'qa', 'seq2seq'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export interface Task {
  name: TaskName;
  taskType: TaskType;
  auto: AutoModelClass;
  /** Classification tasks: the label names are learned from the data and saved with the adapter. */
  labelled: boolean;
}

const TASKS: Readonly<Record<TaskName, Task>> = {
  'causal-lm': { name: 'causal-lm', taskType: TaskType.CAUSAL_LM, auto: AutoModelForCausalLM, labelled: false },
  'seq-cls': { name: 'seq-cls', taskType: TaskType.SEQ_CLS, auto: AutoModelForSequenceClassification, labelled: true },
  'token-cls': { name: 'token-cls', taskType: TaskType.TOKEN_CLS, auto: AutoModelForTokenClassification, labelled: true },
  qa: { name: 'qa', taskType: TaskType.QUESTION_ANS, auto: AutoModelForQuestionAnswering, labelled: false },
  seq2seq: { name: 'seq2seq', taskType: TaskType.SEQ_2_SEQ_LM, auto: AutoModelForSeq2SeqLM, labelled: false },
};

/** The --task option (default causal-lm). */
export function taskOption(opts: Options): Task {
  const name = opts.string('task') ?? 'causal-lm';
  if (!(TASK_NAMES as readonly string[]).includes(name)) throw new CliError(`--task: expected one of ${TASK_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return TASKS[name as TaskName];
}
