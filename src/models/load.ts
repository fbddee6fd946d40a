// Loading a pretrained model: resolve the folder (local or Hub), build the model from config.json,
// copy the checkpoint in and switch to eval mode, as transformers' from_pretrained does.
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

/** A model class with its config class (what each family's static fromPretrained is called on). */
export interface PretrainedClass<M extends PreTrainedModel, C extends PretrainedConfig> {
  new (config: C): M;
  readonly configClass: ConfigClass<C>;
}

export async function loadPretrained<M extends PreTrainedModel>(
  pathOrRepoId: string,
  options: FromPretrainedOptions,
  build: (raw: RawConfig, source: string) => M,
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

/** `cls` built from its own config class and loaded. */
export function loadModel<M extends PreTrainedModel, C extends PretrainedConfig>(
  cls: PretrainedClass<M, C>,
  pathOrRepoId: string,
  options: FromPretrainedOptions = {},
): Promise<M> {
  return loadPretrained(pathOrRepoId, options, (raw, source) => new cls(new cls.configClass(raw, source)));
}
