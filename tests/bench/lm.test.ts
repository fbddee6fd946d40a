import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flags } from '../../bench/harness/flags.js';
import { flopsPerToken, LM_FLAGS, lmCase, type LmParams } from '../../bench/lm/models.js';

const params = (mode: 'train' | 'forward', args: string[] = []) => lmCase(mode, new Flags(args, LM_FLAGS)).params as unknown as LmParams;

test('the LM bench case carries the model config, LoRA config and the same tokens for both sides', () => {
  const p = params('train', ['--batch', '2', '--seq', '16']);
  assert.equal(p.config.model_type, 'gpt2');
  assert.deepEqual(p.lora.target_modules, ['c_attn']);
  assert.equal(p.tokens.length, 32);
  assert.ok(p.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 50257));
  assert.deepEqual(params('train', ['--batch', '2', '--seq', '16']).tokens, p.tokens);
  assert.throws(() => params('train', ['--model', 'nope']), /unknown --model 'nope'/);
});

test('FLOPs per token: 2·N + causal attention + LoRA forward; a LoRA training step adds input gradients and LoRA weight gradients', () => {
  const fwd = flopsPerToken(params('forward'));
  const n = 12 * 768 * (3 * 768 + 768 + 3072 + 3072) + 768 * 50257;
  const attention = 12 * 4 * 768 * (257 / 2);
  const lora = 12 * 2 * 8 * (768 + 3 * 768);
  assert.equal(fwd, 2 * n + attention + lora);
  assert.equal(flopsPerToken(params('train')), 4 * n + 3 * attention + 3 * lora);
  const smol = params('forward', ['--model', 'smollm-135m']);
  assert.equal((smol.lora.target_modules as string[]).length, 7);
  assert.equal(flopsPerToken(smol), 2 * (30 * 576 * (2 * 576 + 2 * 192 + 3 * 1536) + 576 * 49152) + 30 * 4 * 576 * (257 / 2) + 30 * 2 * 8 * (576 * 9 + 2 * 192 + 1536 * 3));
});
