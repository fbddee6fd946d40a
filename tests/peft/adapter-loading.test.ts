// Loading PEFT-made adapters from the Hub (a local stand-in) and into a model without a PeftModel wrapper
// (transformers-style adapters); outputs checked against PEFT's (tests/fixtures/peft/adapters/gpt2-lora).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadSafetensors } from '../../src/io/safetensors-sharded.js';
import { AdapterError } from '../../src/peft/errors.js';
import {
  activeAdapters,
  addAdapter,
  deleteAdapter,
  disableAdapters,
  enableAdapters,
  getAdapterStateDict,
  loadAdapter,
  peftConfigOf,
  setAdapter,
} from '../../src/peft/integrations/transformers.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { assertClose } from '../helpers/assert-close.js';
import { MockHub } from '../helpers/mock-hub.js';
import { captureWarnings } from '../helpers/peft.js';
import { adapterCases, loadBaseModel, loadExpected } from '../helpers/peft-cases.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const gpt2 = adapterCases().find((c) => c.name === 'gpt2-lora')!;
const { inputs, tensors: expected } = loadExpected(gpt2);

function assertLogits(actual: Tensor, name: string): void {
  assertClose(actual.toArray(), expected.get(name)!.toArray(), { atol: 1e-4, rtol: 0 }, name);
}

test('PeftModel.fromPretrained takes a Hub repo id with a subfolder and revision', async () => {
  const tmp = makeTempDir();
  const restore = setHubEnv();
  const commit = 'a'.repeat(40);
  const files = ['adapter_config.json', 'adapter_model.safetensors'];
  const hub = await MockHub.start({
    'org/gpt2-lora': { refs: { main: commit }, commits: { [commit]: Object.fromEntries(files.map((f) => [`adapters/v1/${f}`, readFileSync(join(gpt2.dir, f))])) } },
  });
  try {
    const peft = await PeftModel.fromPretrained(await loadBaseModel(gpt2), 'org/gpt2-lora', {
      subfolder: 'adapters/v1',
      revision: 'main',
      endpoint: hub.url,
      cacheDir: join(tmp.dir, 'cache'),
    });
    assertLogits(peft.forward(inputs).logits!, 'active.logits');
    peft.dispose();
  } finally {
    await hub.close();
    restore();
    tmp.remove();
  }
});

test('transformers-style: loadAdapter injects into the model itself; enable, disable, state dict without the PeftModel prefix', async () => {
  const model = await loadBaseModel(gpt2);
  await loadAdapter(model, gpt2.dir);
  assert.deepEqual(activeAdapters(model), ['default']);
  assert.ok([...model.stateDict().keys()].some((k) => k === 'transformer.h.0.attn.c_attn.lora_A.default.weight'));
  assert.equal(model.training, false);
  assert.equal(model.numParameters({ trainableOnly: true }), 0);
  assertLogits(model.forward(inputs).logits!, 'active.logits');
  disableAdapters(model);
  assertLogits(model.forward(inputs).logits!, 'disabled.logits');
  enableAdapters(model);
  assertLogits(model.forward(inputs).logits!, 'active.logits');

  const saved = loadSafetensors(join(gpt2.dir, 'adapter_model.safetensors'));
  const state = getAdapterStateDict(model);
  assert.deepEqual([...state.keys()].sort(), [...saved.keys()].map((k) => k.replace(/^base_model\.model\./, '')).sort());
  for (const [k, t] of saved) assert.deepEqual(state.get(k.replace(/^base_model\.model\./, ''))!.toArray(), t.toArray(), k);
  model.dispose();
});

test('transformers-style: addAdapter records the model path and activates; setAdapter and deleteAdapter check names', async () => {
  const model = await loadBaseModel(gpt2);
  assert.throws(() => setAdapter(model, 'default'), AdapterError);
  await loadAdapter(model, gpt2.dir);
  const config = new LoraConfig({ r: 2, targetModules: ['c_fc'] });
  captureWarnings(() => addAdapter(model, config, 'fresh'));
  assert.equal(config.baseModelNameOrPath, 'tests/fixtures/models/gpt2-lm');
  assert.deepEqual(activeAdapters(model), ['fresh']);
  assert.deepEqual([...peftConfigOf(model).keys()], ['default', 'fresh']);
  assert.throws(() => setAdapter(model, 'missing'), (e: unknown) => e instanceof AdapterError && /missing/.test(e.message));
  setAdapter(model, 'default');
  model.eval();
  assertLogits(model.forward(inputs).logits!, 'active.logits');
  deleteAdapter(model, 'fresh');
  assert.deepEqual([...peftConfigOf(model).keys()], ['default']);
  assert.ok(![...model.stateDict().keys()].some((k) => k.includes('.fresh')));
  model.dispose();
});
