// `peftjs inspect <adapter-dir>`: what a saved PEFT adapter holds, read from adapter_config.json and
// the weight file's header (no tensor data is loaded from a safetensors file).
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveAdapterFolder } from '../io/adapter-folder.js';
import { SafetensorsFile } from '../io/safetensors-reader.js';
import { loadTorchCheckpoint } from '../io/torch-checkpoint.js';
import { PeftConfig } from '../peft/config.js';
import { Options, type VerbSpec } from './args.js';

export const inspectVerb: VerbSpec = {
  name: 'inspect',
  summary: 'Show the method, rank, alpha, targets, task type, base model, parameter count and file sizes of a saved PEFT adapter.',
  usage: 'inspect <adapter-dir> [--json]',
  positionals: ['adapter-dir'],
  options: [{ name: 'json', type: 'boolean', description: 'print the summary as one JSON object' }],
};

export interface AdapterSummary {
  method: string;
  rank: unknown;
  /** The distinct ranks of the LoRA A matrices in the weight file (several with rank_pattern). */
  weightRanks: number[];
  alpha: unknown;
  targetModules: unknown;
  taskType: unknown;
  baseModel: unknown;
  tensors: number;
  trainableParameters: number;
  files: { name: string; bytes: number }[];
}

function weightShapes(file: string, format: 'safetensors' | 'pytorch'): [string, number[]][] {
  if (format === 'safetensors') {
    const st = SafetensorsFile.open(file);
    try {
      return st.keys().map((k) => [k, st.info(k).shape]);
    } finally {
      st.close();
    }
  }
  return [...loadTorchCheckpoint(file)].map(([k, t]) => [k, [...t.shape]]);
}

/** Where each method keeps its alpha: LoRA and AdaLoRA, LoHa and LoKr, RandLoRA. */
const ALPHA_KEYS = ['lora_alpha', 'alpha', 'randlora_alpha'] as const;

export async function summarizeAdapter(dir: string): Promise<AdapterSummary> {
  const folder = await resolveAdapterFolder(dir);
  const c = folder.config;
  PeftConfig.fromJSON(c, { source: folder.configPath });
  const named = weightShapes(folder.weights.file, folder.weights.format);
  const shapes = named.map(([, shape]) => shape);
  const ranks = named.filter(([key, shape]) => key.includes('.lora_A') && shape.length >= 2).map(([, shape]) => shape[0]!);
  return {
    method: String(c['peft_type']),
    rank: c['r'] ?? null,
    weightRanks: [...new Set(ranks)].sort((a, b) => a - b),
    alpha: ALPHA_KEYS.map((k) => c[k]).find((v) => v !== undefined) ?? null,
    targetModules: c['target_modules'] ?? null,
    taskType: c['task_type'] ?? null,
    baseModel: c['base_model_name_or_path'] ?? null,
    tensors: shapes.length,
    trainableParameters: shapes.reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1), 0),
    files: [folder.configPath, folder.weights.file].map((f) => ({ name: basename(f), bytes: statSync(f).size })),
  };
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]} (${n} B)`;
}

function show(v: unknown): string {
  if (v === null) return '-';
  if (Array.isArray(v)) return v.join(', ');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function runInspect(opts: Options, positionals: readonly string[], out: NodeJS.WritableStream): Promise<void> {
  const s = await summarizeAdapter(positionals[0]!);
  if (opts.boolean('json') === true) {
    out.write(`${JSON.stringify(s)}\n`);
    return;
  }
  const rows: [string, string][] = [
    ['method', s.method],
    ['rank', show(s.rank)],
    ...(s.weightRanks.length > 0 ? [['ranks in the weights', s.weightRanks.join(', ')] as [string, string]] : []),
    ['alpha', show(s.alpha)],
    ['target modules', show(s.targetModules)],
    ['task type', show(s.taskType)],
    ['base model', show(s.baseModel)],
    ['tensors', String(s.tensors)],
    ['trainable parameters', s.trainableParameters.toLocaleString('en-US')],
    ...s.files.map((f): [string, string] => [f.name, humanBytes(f.bytes)]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.write(`${k.padEnd(width)}  ${v}\n`);
}
