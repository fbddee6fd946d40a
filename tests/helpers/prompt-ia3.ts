// The fixtures of tools/fixtures/peft_prompt_ia3.py: one folder per adapter PEFT made (adapter_config.json,
// adapter_model.safetensors, expected.safetensors, case.json) and reference.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadSafetensors } from '../../src/io/index.js';
import { fixturePath, repoRoot } from './paths.js';

export const PROMPT_IA3_DIR = fixturePath('peft', 'prompt-ia3');

export interface PromptIa3Case {
  name: string;
  dir: string;
  /** The base model folder (relative to the repository root, as the fixture script saw it). */
  baseDir: string;
  taskType: string;
  peftType: string;
  /** Saved checkpoint keys and shapes. */
  saved: Record<string, number[]>;
  /** Trainable parameter names of PEFT's PeftModel. */
  trainable: string[];
  counts: [number, number];
  meta: Record<string, unknown>;
}

/** The cases under `root` (the prompt-learning / (IA)³ fixtures by default; the LyCORIS ones share the layout). */
export function promptIa3Cases(root = PROMPT_IA3_DIR): PromptIa3Case[] {
  return readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'case.json')))
    .sort()
    .map((name) => {
      const dir = join(root, name);
      const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Record<string, unknown>;
      const base = meta['base'] as string;
      return {
        name,
        dir,
        baseDir: base.includes('/') ? join(repoRoot, base) : fixturePath('models', base),
        taskType: meta['task_type'] as string,
        peftType: meta['peft_type'] as string,
        saved: meta['saved'] as Record<string, number[]>,
        trainable: meta['trainable'] as string[],
        counts: meta['counts'] as [number, number],
        meta,
      };
    });
}

export function promptIa3Case(name: string, root = PROMPT_IA3_DIR): PromptIa3Case {
  const c = promptIa3Cases(root).find((x) => x.name === name);
  if (c === undefined) throw new Error(`no fixture case ${name}`);
  return c;
}

export function loadExpected(c: PromptIa3Case): Map<string, Tensor> {
  return loadSafetensors(join(c.dir, 'expected.safetensors'));
}

export function loadReference<T>(root = PROMPT_IA3_DIR): T {
  return JSON.parse(readFileSync(join(root, 'reference.json'), 'utf8')) as T;
}
