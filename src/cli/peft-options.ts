// The adapter `peftjs train` trains: a LoRA config from --r / --lora-alpha / --lora-dropout /
// --target-modules, or any PEFT method's config read from --peft-config (an adapter_config.json as PEFT
// writes it, parsed by PeftConfig.fromJSON). The task decides the task_type; the adapter is trained, so
// the file's inference_mode is ignored.
import { PeftConfig } from '../peft/config.js';
import { ConfigError } from '../peft/errors.js';
import { LoraConfig } from '../peft/tuners/lora/config.js';
import { CliError, readOptionFile, type OptionSpec, type Options } from './args.js';
import type { Task } from './tasks.js';

const LORA_OPTIONS: readonly OptionSpec[] = [
  { name: 'r', type: 'number', description: 'LoRA rank (default 8)' },
  { name: 'lora-alpha', type: 'number', description: 'LoRA alpha (default 16)' },
  { name: 'lora-dropout', type: 'number', description: 'LoRA dropout (default 0)' },
  { name: 'target-modules', type: 'list', placeholder: 'a,b', description: "modules to adapt (default: PEFT's for the model type)" },
];

/** The option specs, for a verb's option list. */
export const peftOptions: readonly OptionSpec[] = [
  {
    name: 'peft-config', type: 'string', placeholder: 'file',
    description: 'train the PEFT method of this adapter_config.json (IA3, AdaLoRA, LoHa, LoKr, prompt tuning, …) instead of LoRA from the options below',
  },
  ...LORA_OPTIONS,
];

/** The adapter config of --peft-config, with the task's task_type. */
function configFromFile(path: string, task: Task): PeftConfig {
  let config: PeftConfig;
  try {
    config = PeftConfig.fromJSON(readOptionFile('--peft-config', path), { source: path });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`--peft-config: ${err.message}`);
    throw err;
  }
  if (config.taskType !== null && config.taskType !== task.taskType) {
    throw new CliError(`--peft-config: ${path} has task_type ${JSON.stringify(config.taskType)}, but --task ${task.name} trains ${JSON.stringify(task.taskType)} adapters`);
  }
  config.taskType = task.taskType;
  config.inferenceMode = false;
  return config;
}

/** The config of the adapter to train. */
export function peftConfigOption(opts: Options, task: Task): PeftConfig {
  const path = opts.string('peft-config');
  if (path === undefined) {
    return new LoraConfig({
      taskType: task.taskType,
      r: opts.number('r') ?? 8,
      loraAlpha: opts.number('lora-alpha') ?? 16,
      loraDropout: opts.number('lora-dropout') ?? 0,
      targetModules: opts.list('target-modules') ?? null,
    });
  }
  const clash = LORA_OPTIONS.filter((o) => opts.has(o.name)).map((o) => `--${o.name}`);
  if (clash.length > 0) throw new CliError(`--peft-config cannot be combined with ${clash.join(', ')}: the adapter config file sets the method's options`);
  return configFromFile(path, task);
}
