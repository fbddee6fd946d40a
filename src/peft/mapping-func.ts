// getPeftModel (PEFT's mapping_func.get_peft_model): wraps a model in the PeftModel class of the config's task
// type (a plain PeftModel without one), injecting the first adapter.
import type { Module } from '../nn/module.js';
import type { PeftConfig } from './config.js';
import { MODEL_TYPE_TO_PEFT_MODEL_MAPPING, nameOrPathOf, PeftModel, peftPrefixOf } from './peft-model.js';
import type { PromptLearningOptions } from './prompt-learning.js';
import { BaseTunerLayer } from './tuners/base-tuner-layer.js';
import { warn } from './utils/warnings.js';

/** `tokenizer` (prompt tuning's TEXT init) and `generator` are used for prompt-learning adapters. */
export interface GetPeftModelOptions extends PromptLearningOptions {
  /** Name of the first adapter (default "default"). */
  adapterName?: string;
  /** Base-model revision recorded in the adapter config. */
  revision?: string;
}

export function getPeftModel(model: Module, config: PeftConfig, options: GetPeftModelOptions = {}): PeftModel {
  const { adapterName = 'default', revision, ...promptOptions } = options;
  const oldName = config.baseModelNameOrPath;
  const newName = nameOrPathOf(model);
  config.baseModelNameOrPath = newName;
  if ([...model.namedModules()].some(([, m]) => m instanceof BaseTunerLayer)) {
    warn(
      'You are trying to modify a model with PEFT for a second time. If you want to reload the model with a ' +
        'different config, make sure to call `.unload()` before.',
    );
  }
  if (oldName !== null && oldName !== newName) {
    warn(
      `The PEFT config's \`base_model_name_or_path\` was renamed from '${oldName}' to '${newName}'. ` +
        'Please ensure that the correct base model is loaded when loading this checkpoint.',
    );
  }
  if (revision !== undefined) {
    if (config.revision !== null && config.revision !== revision) {
      warn(`peft config has already set base model revision to ${config.revision}, overwriting with revision ${revision}`);
    }
    config.revision = revision;
  }
  // An adapter name inside the method's parameter prefix confuses key matching on load.
  const prefix = peftPrefixOf(config);
  if (prefix !== null && prefix.includes(adapterName)) {
    warn(`Adapter name '${adapterName}' should not be contained in the prefix '${prefix}'. This may lead to reinitialization of the adapter weights during loading.`);
  }
  const Cls = (config.taskType === null ? undefined : MODEL_TYPE_TO_PEFT_MODEL_MAPPING[config.taskType]) ?? PeftModel;
  return new Cls(model, config, adapterName, promptOptions);
}
