// Auto classes: pick the model class from config.json's model_type through a registry that each
// family fills with registerModelFamily.
import { ConfigReader, type PretrainedConfig, type RawConfig } from './config.js';
import { ModelConfigError } from './errors.js';
import { loadPretrained, type ConfigClass, type FromPretrainedOptions } from './load.js';
import type { PreTrainedModel } from './pretrained.js';

export type ModelTask = 'base' | 'causalLm' | 'sequenceClassification' | 'tokenClassification' | 'questionAnswering' | 'maskedLm';

export type ModelFamily<C extends PretrainedConfig = PretrainedConfig> = { config: ConfigClass<C> } & {
  [T in ModelTask]?: new (config: C) => PreTrainedModel<C>;
};

const families = new Map<string, ModelFamily>();

export function registerModelFamily<C extends PretrainedConfig>(modelType: string, family: ModelFamily<C>): void {
  families.set(modelType, family as unknown as ModelFamily);
}

/** Model types with a class for `task` (every registered type when left out), sorted. */
export function supportedModelTypes(task?: ModelTask): string[] {
  return [...families].filter(([, f]) => task === undefined || f[task] !== undefined).map(([t]) => t).sort();
}

export class AutoModelClass {
  constructor(
    readonly name: string,
    readonly task: ModelTask,
  ) {}

  /** A randomly initialised model (training mode) for a config dict. */
  fromConfig(raw: RawConfig, source = 'config.json'): PreTrainedModel {
    const modelType = new ConfigReader(raw, source).str('model_type');
    const family = families.get(modelType);
    const cls = family?.[this.task];
    if (family === undefined || cls === undefined) {
      throw new ModelConfigError(
        `${source}: model_type "${modelType}" is not supported by ${this.name} (supported: ${supportedModelTypes(this.task).join(', ')})`,
      );
    }
    return new cls(new family.config(raw, source));
  }

  fromPretrained(pathOrRepoId: string, options: FromPretrainedOptions = {}): Promise<PreTrainedModel> {
    return loadPretrained(pathOrRepoId, options, (raw, source) => this.fromConfig(raw, source));
  }
}

export const AutoModel = new AutoModelClass('AutoModel', 'base');
export const AutoModelForCausalLM = new AutoModelClass('AutoModelForCausalLM', 'causalLm');
export const AutoModelForSequenceClassification = new AutoModelClass('AutoModelForSequenceClassification', 'sequenceClassification');
export const AutoModelForTokenClassification = new AutoModelClass('AutoModelForTokenClassification', 'tokenClassification');
export const AutoModelForQuestionAnswering = new AutoModelClass('AutoModelForQuestionAnswering', 'questionAnswering');
export const AutoModelForMaskedLM = new AutoModelClass('AutoModelForMaskedLM', 'maskedLm');
