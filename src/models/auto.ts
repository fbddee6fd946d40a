// Auto classes: model families register their classes per task under their model_type, and
// AutoModelFor*.fromPretrained picks the class from config.json's model_type.
import { ModelConfigError } from './errors.js';
import type { RawConfig } from './config.js';
import { loadPretrained, type FromPretrainedOptions } from './load.js';
import type { PreTrainedModel } from './pretrained.js';

export interface PretrainedModelClass<M extends PreTrainedModel = PreTrainedModel> {
  readonly name: string;
  fromConfig(config: RawConfig, source?: string): M;
  fromPretrained(pathOrRepoId: string, options?: FromPretrainedOptions): Promise<M>;
}

export type ModelTask = 'base' | 'causalLm' | 'sequenceClassification' | 'tokenClassification' | 'questionAnswering' | 'maskedLm' | 'seq2seqLm';

export type ModelFamilyClasses = { [T in ModelTask]?: PretrainedModelClass };

const families = new Map<string, ModelFamilyClasses>();

/** Registers (or extends) the classes of one model_type. */
export function registerModelFamily(modelType: string, classes: ModelFamilyClasses): void {
  families.set(modelType, { ...families.get(modelType), ...classes });
}

export function registeredModelTypes(): string[] {
  return [...families.keys()];
}

/** The class registered for a config's model_type and a task; errors name the model_type. */
export function modelClassFor(config: RawConfig, task: ModelTask, source = 'config.json'): PretrainedModelClass {
  const modelType = config.model_type;
  if (typeof modelType !== 'string') throw new ModelConfigError(`${source}: missing required field "model_type"`);
  const family = families.get(modelType);
  if (family === undefined) {
    throw new ModelConfigError(`${source}: "model_type" ${JSON.stringify(modelType)} is not supported (known: ${registeredModelTypes().join(', ')})`);
  }
  const cls = family[task];
  if (cls === undefined) {
    const tasks = Object.keys(family).join(', ');
    throw new ModelConfigError(`${source}: "model_type" ${JSON.stringify(modelType)} has no ${task} model (it has: ${tasks})`);
  }
  return cls;
}

export class AutoModelClass {
  constructor(readonly task: ModelTask) {}

  fromConfig(config: RawConfig, source?: string): PreTrainedModel {
    return modelClassFor(config, this.task, source).fromConfig(config, source);
  }

  fromPretrained(pathOrRepoId: string, options: FromPretrainedOptions = {}): Promise<PreTrainedModel> {
    return loadPretrained(pathOrRepoId, (config, source) => this.fromConfig(config, source), options);
  }
}

export const AutoModel = new AutoModelClass('base');
export const AutoModelForCausalLM = new AutoModelClass('causalLm');
export const AutoModelForSequenceClassification = new AutoModelClass('sequenceClassification');
export const AutoModelForTokenClassification = new AutoModelClass('tokenClassification');
export const AutoModelForQuestionAnswering = new AutoModelClass('questionAnswering');
export const AutoModelForMaskedLM = new AutoModelClass('maskedLm');
export const AutoModelForSeq2SeqLM = new AutoModelClass('seq2seqLm');
