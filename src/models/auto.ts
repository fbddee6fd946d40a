// Auto classes: each family registers its model classes per task under its model_type, and
// AutoModelFor*.fromConfig / fromPretrained pick the class from config.json's model_type.
import { ConfigReader, type PretrainedConfig, type RawConfig } from './config.js';
import { ModelConfigError } from './errors.js';
import { loadPretrained, type FromPretrainedOptions, type PretrainedClass } from './load.js';
import type { PreTrainedModel } from './pretrained.js';

export type ModelTask = 'base' | 'causalLm' | 'sequenceClassification' | 'tokenClassification' | 'questionAnswering' | 'maskedLm' | 'seq2seqLm';

export type ModelFamily<C extends PretrainedConfig = PretrainedConfig> = { [T in ModelTask]?: PretrainedClass<PreTrainedModel<C>, C> };

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
    const cls = families.get(modelType)?.[this.task];
    if (cls === undefined) {
      throw new ModelConfigError(
        `${source}: model_type "${modelType}" is not supported by ${this.name} (supported: ${supportedModelTypes(this.task).join(', ')})`,
      );
    }
    return new cls(new cls.configClass(raw, source));
  }

  fromPretrained(pathOrRepoId: string, options: FromPretrainedOptions = {}): Promise<PreTrainedModel> {
    return loadPretrained(pathOrRepoId, (raw, source) => this.fromConfig(raw, source), options);
  }
}

export const AutoModel = new AutoModelClass('AutoModel', 'base');
export const AutoModelForCausalLM = new AutoModelClass('AutoModelForCausalLM', 'causalLm');
export const AutoModelForSequenceClassification = new AutoModelClass('AutoModelForSequenceClassification', 'sequenceClassification');
export const AutoModelForTokenClassification = new AutoModelClass('AutoModelForTokenClassification', 'tokenClassification');
export const AutoModelForQuestionAnswering = new AutoModelClass('AutoModelForQuestionAnswering', 'questionAnswering');
export const AutoModelForMaskedLM = new AutoModelClass('AutoModelForMaskedLM', 'maskedLm');
export const AutoModelForSeq2SeqLM = new AutoModelClass('AutoModelForSeq2SeqLM', 'seq2seqLm');
