// Sharded safetensors checkpoints: `model.safetensors.index.json` maps every tensor name to the
// shard file holding it (`weight_map`). Shards sit next to the index and are opened on first use.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Tensor } from '../engine/tensor.js';
import type { RawTensor } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { SafetensorsFile } from './safetensors-reader.js';
import { readAll, type ReadOptions, type TensorInfo, type TensorReader } from './tensor-reader.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Shard names are plain file names in the index's folder; anything path-like is refused. */
function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

function readIndex(indexPath: string): { metadata: Record<string, unknown>; weightMap: Map<string, string> } {
  let text: string;
  try {
    text = readFileSync(indexPath, 'utf8');
  } catch (err) {
    throw new SafetensorsError(indexPath, undefined, `cannot read the shard index (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(indexPath, undefined, `shard index is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw new SafetensorsError(indexPath, undefined, 'shard index must be a JSON object');
  const { weight_map: map, metadata } = json;
  if (!isObject(map)) throw new SafetensorsError(indexPath, 'weight_map', 'must be an object mapping tensor names to shard files');
  if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
    throw new SafetensorsError(indexPath, 'metadata', 'must be an object');
  }
  const weightMap = new Map<string, string>();
  for (const [key, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !isPlainFileName(shard)) {
      throw new SafetensorsError(indexPath, key, `maps to ${JSON.stringify(shard)}; expected the file name of a shard in the same folder`);
    }
    weightMap.set(key, shard);
  }
  return { metadata: isObject(metadata) ? metadata : {}, weightMap };
}

export class ShardedSafetensors implements TensorReader {
  private readonly shards = new Map<string, SafetensorsFile>();

  private constructor(
    readonly indexPath: string,
    /** The index's own `metadata` (e.g. total_size). */
    readonly metadata: Readonly<Record<string, unknown>>,
    private readonly weightMap: Map<string, string>,
  ) {}

  /** Reads the index and checks that every shard it names exists. */
  static open(indexPath: string): ShardedSafetensors {
    const { metadata, weightMap } = readIndex(indexPath);
    const folder = dirname(indexPath);
    const firstKey = new Map<string, string>();
    for (const [key, shard] of weightMap) if (!firstKey.has(shard)) firstKey.set(shard, key);
    for (const [shard, key] of firstKey) {
      const path = join(folder, shard);
      let isFile = false;
      try {
        isFile = statSync(path).isFile();
      } catch {
        isFile = false;
      }
      if (!isFile) throw new SafetensorsError(indexPath, key, `is in shard '${shard}', which is missing (expected ${path})`);
    }
    return new ShardedSafetensors(indexPath, metadata, weightMap);
  }

  keys(): string[] {
    return [...this.weightMap.keys()];
  }

  has(name: string): boolean {
    return this.weightMap.has(name);
  }

  /** The shard holding `name`, opened on first use and checked to contain it. */
  private shardOf(name: string): SafetensorsFile {
    const shard = this.weightMap.get(name);
    if (shard === undefined) throw new SafetensorsError(this.indexPath, name, 'is not listed in the weight_map');
    let file = this.shards.get(shard);
    if (file === undefined) {
      file = SafetensorsFile.open(join(dirname(this.indexPath), shard));
      this.shards.set(shard, file);
    }
    if (!file.has(name)) throw new SafetensorsError(this.indexPath, name, `is listed in shard '${shard}', which holds no such tensor`);
    return file;
  }

  info(name: string): TensorInfo {
    return this.shardOf(name).info(name);
  }

  readRaw(name: string): RawTensor {
    return this.shardOf(name).readRaw(name);
  }

  readTensor(name: string, options: ReadOptions = {}): Tensor {
    return this.shardOf(name).readTensor(name, options);
  }

  close(): void {
    for (const file of this.shards.values()) file.close();
    this.shards.clear();
  }
}

/**
 * Loads every tensor of a safetensors file, or of a sharded checkpoint when `path` is its
 * `*.safetensors.index.json`, one tensor at a time.
 */
export function loadSafetensors(path: string, options: ReadOptions = {}): Map<string, Tensor> {
  const reader = path.endsWith('.json') ? ShardedSafetensors.open(path) : SafetensorsFile.open(path);
  return readAll(reader, options);
}
