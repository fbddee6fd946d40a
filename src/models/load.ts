// from_pretrained: resolve the folder (local or Hub), read config.json, build the model, copy the
// weights in and switch to evaluation mode, as transformers does.
import { resolveModelFolder, type ModelFolderOptions } from '../io/model-folder.js';
import { castLayerWeights, type WeightDType } from '../nn/layer-dtype.js';
import type { PretrainedConfig, RawConfig } from './config.js';
import { ModelConfigError } from './errors.js';
import type { PreTrainedModel } from './pretrained.js';

export interface FromPretrainedOptions extends ModelFolderOptions {
  /**
   * Storage of the Linear, Conv1D and Embedding weights (castLayerWeights): 'bfloat16' or 'float16'
   * halves their memory, frozen; compute stays float32. Default 'float32'.
   */
  dtype?: WeightDType;
}

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
  const { dtype = 'float32', ...folderOptions } = options;
  if (dtype !== 'float32' && dtype !== 'bfloat16' && dtype !== 'float16') {
    throw new ModelConfigError(`fromPretrained: option 'dtype' must be 'float32', 'bfloat16' or 'float16', got ${JSON.stringify(dtype)}`);
  }
  const folder = await resolveModelFolder(pathOrRepoId, folderOptions);
  const model = build(folder.config, folder.configPath);
  try {
    model.loadWeights(folder.weights);
    castLayerWeights(model, dtype);
  } catch (err) {
    model.dispose();
    throw err;
  }
  model.nameOrPath = pathOrRepoId;
  model.generationConfig = folder.generationConfig;
  return model.eval();
}
