// A tiny Llama model folder whose vocabulary fits the byte-level BPE fixture tokenizer, for CLI tests.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, randn, scope } from '../../src/engine/index.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { fixturePath } from './paths.js';

/** A 2-layer Llama (random weights, seed 0) saved with the fixture tokenizer's files. */
export function makeTinyLlamaFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-model-'));
  const raw = JSON.parse(readFileSync(fixturePath('models', 'llama-lm', 'config.json'), 'utf8')) as Record<string, unknown>;
  Object.assign(raw, { vocab_size: 420, bos_token_id: 0, eos_token_id: 4, pad_token_id: 5 });
  const model = AutoModelForCausalLM.fromConfig(raw);
  const init = new Generator(0);
  for (const [, p] of model.namedParameters()) {
    if (p.ndim === 2) scope(() => p.data().set(randn(p.shape, { std: 0.1, generator: init }).data()));
  }
  model.savePretrained(dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja']) copyFileSync(fixturePath('tokenizers', 'byte-level-bpe', f), join(dir, f));
  return dir;
}
