// The files of a saved PEFT adapter (local directory or Hub repo, optionally in a subfolder), found
// as PEFT's from_pretrained finds them: adapter_config.json and adapter_model.safetensors, else
// adapter_model.bin.
import { dirname } from 'node:path';
import { ModelFolderError, openFileSource, type SourceOptions } from './file-source.js';
import { readJsonObject } from './json-file.js';

export interface AdapterFolder {
  source: string;
  /** Local directory holding adapter_config.json. */
  dir: string;
  commit: string | null;
  configPath: string;
  config: Record<string, unknown>;
  weights: { format: 'safetensors' | 'pytorch'; file: string };
}

export async function resolveAdapterFolder(pathOrRepoId: string, opts: SourceOptions = {}): Promise<AdapterFolder> {
  const source = openFileSource(pathOrRepoId, opts);
  const configPath = await source.find('adapter_config.json');
  if (configPath === null) throw new ModelFolderError(`${source.label} has no adapter_config.json`);
  const config = readJsonObject(configPath);
  if (typeof config.peft_type !== 'string') {
    throw new ModelFolderError(`${configPath}: expected a string "peft_type" (e.g. "LORA"), got ${JSON.stringify(config.peft_type)}`);
  }
  const safetensors = await source.find('adapter_model.safetensors');
  const file = safetensors ?? (await source.find('adapter_model.bin'));
  if (file === null) {
    throw new ModelFolderError(`${source.label} has no adapter weights: expected adapter_model.safetensors or adapter_model.bin`);
  }
  return {
    source: source.label,
    dir: dirname(configPath),
    commit: source.commit,
    configPath,
    config,
    weights: { format: safetensors !== null ? 'safetensors' : 'pytorch', file },
  };
}
