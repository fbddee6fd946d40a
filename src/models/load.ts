// from_pretrained: resolve the folder (local or Hub), read config.json, build the model, copy the
// weights in and switch to evaluation mode, as transformers does.
import { resolveModelFolder, type ModelFolderOptions } from '../io/model-folder.js';
import type { PretrainedConfig, RawConfig } from './config.js';
import type { PreTrainedModel } from './pretrained.js';

export type FromPretrainedOptions = ModelFolderOptions;

export type ConfigClass<C extends PretrainedConfig = PretrainedConfig> = new (raw: RawConfig, source?: string) => C;

/** A model class with its config class (what the static fromConfig and fromPretrained are called on). */
export interface PretrainedClass<M extends PreTrainedModel = PreTrainedModel, C extends PretrainedConfig = PretrainedConfig> {
  new (config: C): M;
  readonly configClass: ConfigClass<C>;
}

/** Builds a model from a config dict; `source` names the config file in errors. */
export type ModelBuilder<M extends PreTrainedModel> = (config: RawConfig, source: string) => M;

export async function loadPretrained<M extends PreTrainedModel>(
  pathOrRepoId: string,
  build: ModelBuilder<M>,
  options: FromPretrainedOptions = {},
): Promise<M> {
  const folder = await resolveModelFolder(pathOrRepoId, options);
  const model = build(folder.config, folder.configPath);
  try {
    model.loadWeights(folder.weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  model.nameOrPath = pathOrRepoId;
  return model.eval();
}
