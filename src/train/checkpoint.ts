// Checkpoint folders: `checkpoint-<step>/` in the output folder, holding the adapter (written by the
// model) and what resuming needs — trainable_parameters.safetensors (exact float32 copies by
// parameter name), optimizer.safetensors (AdamW moments; groups and step counts in its metadata),
// scheduler.json, rng_state.json, data_state.json (the data loader's position) and trainer_state.json.
// A folder is filled under a temporary name and renamed into place once complete
// (src/io/atomic-folder.ts), so an interrupted save leaves no checkpoint-<step> behind; each file
// is itself written atomically.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../engine/tensor.js';
import { writeTextAtomic } from '../io/atomic-write.js';
import { SafetensorsFile } from '../io/safetensors-reader.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import type { LoaderState } from './data/loader.js';
import { CheckpointError } from './errors.js';
import type { AdamWStateDict } from './optimizer.js';
import type { RngState } from './rng.js';
import type { SchedulerState } from './schedules.js';
import { parseTrainerState, trainerStateJson, type TrainerState } from './state.js';

export const CHECKPOINT_FILES = {
  params: 'trainable_parameters.safetensors',
  optimizer: 'optimizer.safetensors',
  scheduler: 'scheduler.json',
  rng: 'rng_state.json',
  data: 'data_state.json',
  state: 'trainer_state.json',
} as const;

export interface Snapshot {
  /** Trainable parameters by name. */
  params: [string, Tensor][];
  optimizer: AdamWStateDict;
  scheduler: SchedulerState;
  rng: RngState;
  data: LoaderState;
  state: TrainerState;
}

/** A snapshot read back: the tensors are fresh and owned by the caller. */
export interface LoadedSnapshot extends Omit<Snapshot, 'params'> {
  params: Map<string, Tensor>;
}

const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;

/** checkpoint-<step> folders of the output folder, oldest step first. */
export function listCheckpoints(outputDir: string): { step: number; path: string }[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && CHECKPOINT_DIR.test(e.name))
    .map((e) => ({ step: Number(CHECKPOINT_DIR.exec(e.name)![1]), path: join(outputDir, e.name) }))
    .sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(outputDir: string): string | null {
  return listCheckpoints(outputDir).at(-1)?.path ?? null;
}

/**
 * Deletes the oldest checkpoints beyond `limit`, as transformers' rotate_checkpoints: the latest
 * and the `keep` ones (the best) are never deleted, so more than `limit` may remain.
 */
export function rotateCheckpoints(outputDir: string, limit: number | null, keep: readonly string[]): void {
  const all = listCheckpoints(outputDir);
  if (limit === null || all.length <= limit) return;
  const protectedPaths = new Set([all.at(-1)!.path, ...keep]);
  let remaining = all.length;
  const target = Math.max(limit, protectedPaths.size);
  for (const { path } of all) {
    if (remaining <= target) break;
    if (protectedPaths.has(path)) continue;
    rmSync(path, { recursive: true, force: true });
    remaining--;
  }
}

function writeJson(path: string, value: unknown): void {
  writeTextAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes the resume files of a snapshot into `dir`. */
export function writeSnapshot(dir: string, s: Snapshot): void {
  saveSafetensors(join(dir, CHECKPOINT_FILES.params), new Map(s.params));
  const moments = new Map<string, Tensor>();
  const steps: Record<string, number> = {};
  for (const [index, entry] of Object.entries(s.optimizer.state)) {
    moments.set(`state.${index}.exp_avg`, entry.exp_avg);
    moments.set(`state.${index}.exp_avg_sq`, entry.exp_avg_sq);
    steps[index] = entry.step;
  }
  saveSafetensors(join(dir, CHECKPOINT_FILES.optimizer), moments, {
    param_groups: JSON.stringify(s.optimizer.param_groups),
    steps: JSON.stringify(steps),
  });
  writeJson(join(dir, CHECKPOINT_FILES.scheduler), s.scheduler);
  writeJson(join(dir, CHECKPOINT_FILES.rng), s.rng);
  writeJson(join(dir, CHECKPOINT_FILES.data), s.data);
  writeTextAtomic(join(dir, CHECKPOINT_FILES.state), trainerStateJson(s.state));
}

function readJson(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CheckpointError(path, undefined, `cannot be read as JSON (${(err as Error).message})`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CheckpointError(path, undefined, 'must hold a JSON object');
  return value as Record<string, unknown>;
}

function parseMetadata(file: string, meta: Readonly<Record<string, string>> | undefined, key: string): unknown {
  const text = meta?.[key];
  if (text === undefined) throw new CheckpointError(file, key, 'is missing from the metadata');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(file, key, `is not JSON (${(err as Error).message})`, { cause: err });
  }
}

function readOptimizer(file: string): AdamWStateDict {
  const st = SafetensorsFile.open(file);
  try {
    const groups = parseMetadata(file, st.metadata, 'param_groups') as AdamWStateDict['param_groups'];
    const steps = parseMetadata(file, st.metadata, 'steps') as Record<string, number>;
    if (steps === null || typeof steps !== 'object') throw new CheckpointError(file, 'steps', 'must be a JSON object');
    const state: AdamWStateDict['state'] = {};
    for (const [index, step] of Object.entries(steps)) {
      const names = [`state.${index}.exp_avg`, `state.${index}.exp_avg_sq`];
      for (const n of names) if (!st.has(n)) throw new CheckpointError(file, n, 'is missing');
      state[Number(index)] = { step, exp_avg: st.readTensor(names[0]!), exp_avg_sq: st.readTensor(names[1]!) };
    }
    return { state, param_groups: groups };
  } finally {
    st.close();
  }
}

function readParams(file: string): Map<string, Tensor> {
  const st = SafetensorsFile.open(file);
  try {
    return new Map(st.keys().map((k) => [k, st.readTensor(k)]));
  } finally {
    st.close();
  }
}

/** Reads the resume files of a checkpoint folder. */
export function readSnapshot(dir: string): LoadedSnapshot {
  for (const name of Object.values(CHECKPOINT_FILES)) {
    if (!existsSync(join(dir, name))) throw new CheckpointError(join(dir, name), undefined, 'is missing: not a checkpoint folder this trainer wrote');
  }
  const path = (name: keyof typeof CHECKPOINT_FILES) => join(dir, CHECKPOINT_FILES[name]);
  const data = readJson(path('data'));
  const state = parseTrainerState(path('state'), readJson(path('state')));
  const scheduler = readJson(path('scheduler')) as unknown as SchedulerState;
  const rng = readJson(path('rng')) as unknown as RngState;
  const optimizer = readOptimizer(path('optimizer'));
  const params = readParams(path('params'));
  return { params, optimizer, scheduler, rng, data: data as unknown as LoaderState, state };
}
