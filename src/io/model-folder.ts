// The files of a pretrained model (local directory or Hub repo), found the way transformers'
// from_pretrained finds them: config.json, the optional generation_config.json, the weights
// (model.safetensors, its shard index, then pytorch_model.bin and its index) and the tokenizer files.
// Only paths are returned: reading weights and tokenizers is done elsewhere.
import { dirname } from 'node:path';
import { ModelFolderError, openFileSource, type FileSource, type SourceOptions } from './file-source.js';
import { readJsonObject } from './json-file.js';

export interface WeightFiles {
  format: 'safetensors' | 'pytorch';
  /** Local paths: the single file, or every shard named in the index (sorted, as transformers does). */
  files: string[];
  sharded: boolean;
  /** Path of the shard index when sharded. */
  index: string | null;
}

export interface TokenizerFiles {
  tokenizer: string | null;
  tokenizerConfig: string | null;
  specialTokensMap: string | null;
  chatTemplate: string | null;
}

export interface ModelFolder {
  /** Where the files came from, for messages. */
  source: string;
  /** Local directory holding config.json (a snapshot folder for Hub repos). */
  dir: string;
  /** Commit of a Hub repo; null for local directories. */
  commit: string | null;
  configPath: string;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown> | null;
  weights: WeightFiles;
  tokenizer: TokenizerFiles;
}

export interface ModelFolderOptions extends SourceOptions {
  /** true: safetensors only; false: pytorch_model.bin only; unset: safetensors first. */
  useSafetensors?: boolean;
}

const WEIGHT_CANDIDATES = [
  { name: 'model.safetensors', format: 'safetensors', sharded: false },
  { name: 'model.safetensors.index.json', format: 'safetensors', sharded: true },
  { name: 'pytorch_model.bin', format: 'pytorch', sharded: false },
  { name: 'pytorch_model.bin.index.json', format: 'pytorch', sharded: true },
] as const;

function shardNames(indexPath: string): string[] {
  const map = readJsonObject(indexPath).weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new ModelFolderError(`${indexPath}: expected a "weight_map" object mapping tensor names to shard files`);
  }
  const files = new Set<string>();
  for (const [tensor, file] of Object.entries(map)) {
    if (typeof file !== 'string' || file === '' || file.split('/').includes('..')) {
      throw new ModelFolderError(`${indexPath}: weight_map["${tensor}"] must be a shard file name inside the folder, got ${JSON.stringify(file)}`);
    }
    files.add(file);
  }
  if (files.size === 0) throw new ModelFolderError(`${indexPath}: "weight_map" is empty`);
  return [...files].sort();
}

/** Finds the weights in `source`, downloading them from the Hub when needed. */
export async function findWeights(source: FileSource, useSafetensors?: boolean): Promise<WeightFiles> {
  const allowed = WEIGHT_CANDIDATES.filter((c) => useSafetensors === undefined || (c.format === 'safetensors') === useSafetensors);
  for (const c of allowed) {
    const found = await source.find(c.name);
    if (found === null) continue;
    if (!c.sharded) return { format: c.format, files: [found], sharded: false, index: null };
    return { format: c.format, files: await source.require(shardNames(found)), sharded: true, index: found };
  }
  throw new ModelFolderError(`${source.label} has no model weights: expected one of ${allowed.map((c) => c.name).join(', ')}`);
}

export async function findTokenizerFiles(source: FileSource): Promise<TokenizerFiles> {
  return {
    tokenizer: await source.find('tokenizer.json'),
    tokenizerConfig: await source.find('tokenizer_config.json'),
    specialTokensMap: await source.find('special_tokens_map.json'),
    chatTemplate: await source.find('chat_template.jinja'),
  };
}

/** Resolves a model from a local directory or a Hub repo id (downloading through the HF cache). */
export async function resolveModelFolder(pathOrRepoId: string, opts: ModelFolderOptions = {}): Promise<ModelFolder> {
  const { useSafetensors, ...sourceOpts } = opts;
  const source = openFileSource(pathOrRepoId, sourceOpts);
  const configPath = await source.find('config.json');
  if (configPath === null) throw new ModelFolderError(`${source.label} has no config.json`);
  const config = readJsonObject(configPath);
  const generationPath = await source.find('generation_config.json');
  return {
    source: source.label,
    dir: dirname(configPath),
    commit: source.commit,
    configPath,
    config,
    generationConfig: generationPath === null ? null : readJsonObject(generationPath),
    weights: await findWeights(source, useSafetensors),
    tokenizer: await findTokenizerFiles(source),
  };
}
