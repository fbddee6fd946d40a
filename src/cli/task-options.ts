// Options that say how records become examples, shared by `train` and `eval`: the field names (with
// defaults that fit the bundled datasets in data/), lengths, and per-task switches. An option given
// for a task it does not apply to is a usage error.
import type { OptionSpec } from './args.js';
import { CliError, type Options } from './args.js';
import type { Task, TaskName } from './tasks.js';

interface TaskOptionSpec extends OptionSpec {
  tasks: readonly TaskName[];
}

const TASK_DATA_OPTIONS: readonly TaskOptionSpec[] = [
  { name: 'block-size', type: 'number', tasks: ['causal-lm'], description: 'causal-lm: tokens per example (default: the tokenizer and model limits, at most 512)' },
  { name: 'max-length', type: 'number', tasks: ['seq-cls', 'token-cls', 'qa', 'seq2seq'], description: 'tokens per example (seq2seq: per source); default the tokenizer and model limits, at most 512 (qa: 384)' },
  { name: 'text-field', type: 'string', placeholder: 'name', tasks: ['seq-cls'], description: 'seq-cls: the text field (default text)' },
  { name: 'text-pair-field', type: 'string', placeholder: 'name', tasks: ['seq-cls'], description: 'seq-cls: a second text field, encoded as a pair (default none)' },
  { name: 'label-field', type: 'string', placeholder: 'name', tasks: ['seq-cls'], description: 'seq-cls: the label field, a string or a class id (default label)' },
  { name: 'tokens-field', type: 'string', placeholder: 'name', tasks: ['token-cls'], description: 'token-cls: the words field (default tokens)' },
  { name: 'tags-field', type: 'string', placeholder: 'name', tasks: ['token-cls'], description: 'token-cls: the per-word labels field (default tags)' },
  { name: 'label-all-tokens', type: 'boolean', tasks: ['token-cls'], description: "token-cls: label every token of a word, not only the first (default false)" },
  { name: 'doc-stride', type: 'number', tasks: ['qa'], description: 'qa: tokens shared by consecutive context windows (default a third of --max-length)' },
  { name: 'source-field', type: 'string', placeholder: 'name', tasks: ['seq2seq'], description: 'seq2seq: the input text field (default source)' },
  { name: 'target-field', type: 'string', placeholder: 'name', tasks: ['seq2seq'], description: 'seq2seq: the output text field (default target)' },
  { name: 'source-prefix', type: 'string', placeholder: 'text', tasks: ['seq2seq'], description: "seq2seq: text put before every source, e.g. 'translate English to German: '" },
  { name: 'max-target-length', type: 'number', tasks: ['seq2seq'], description: 'seq2seq: tokens per target (default --max-length)' },
];

/** The option specs, for a verb's option list. */
export const taskDataOptions: readonly OptionSpec[] = TASK_DATA_OPTIONS.map(({ tasks: _t, ...spec }) => spec);

/** Refuses options that do not apply to the task. */
export function checkTaskOptions(opts: Options, task: Task): void {
  for (const spec of TASK_DATA_OPTIONS) {
    if (opts.has(spec.name) && !spec.tasks.includes(task.name)) {
      throw new CliError(`--${spec.name} applies to --task ${spec.tasks.join(' or ')}, not ${task.name}`);
    }
  }
}

