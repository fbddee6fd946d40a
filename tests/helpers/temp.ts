// Temporary directories under os.tmpdir() and a clean Hub environment for tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function makeTempDir(prefix = 'peftjs-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const HUB_VARS = [
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'HF_TOKEN_PATH',
  'HF_HUB_OFFLINE',
  'TRANSFORMERS_OFFLINE',
  'HF_ENDPOINT',
  'HF_HOME',
  'HF_HUB_CACHE',
  'HUGGINGFACE_HUB_CACHE',
];

/** Clears the HF_* variables (so the machine's own token or cache is never used) and sets `vars`; returns a restore function. */
export function setHubEnv(vars: Record<string, string> = {}): () => void {
  const saved = Object.fromEntries(HUB_VARS.concat(Object.keys(vars)).map((k) => [k, process.env[k]]));
  for (const k of HUB_VARS) delete process.env[k];
  process.env.HF_TOKEN_PATH = join(tmpdir(), 'peftjs-no-token-file');
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
