// Runs the transformers model fixtures (tests/fixtures/models/<case>, written by
// tools/fixtures/models*.py): load the folder, feed io.safetensors' inputs, compare outputs, loss and,
// for gradient cases, grad.inputs_embeds and every grad.<parameter>.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, type Tensor } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/io/index.js';
import type { ModelInputs, ModelOutput, PreTrainedModel } from '../../src/models/index.js';
import { assertClose } from './assert-close.js';
import { fixturePath } from './paths.js';

export function modelFixtureDir(name: string): string {
  return fixturePath('models', name);
}

/** io.safetensors of a case: inputs, expected outputs and gradients. */
export function loadModelIO(name: string): Map<string, Tensor> {
  return loadSafetensors(join(modelFixtureDir(name), 'io.safetensors'));
}

const INPUT_KEYS: Record<string, keyof ModelInputs> = {
  input_ids: 'inputIds',
  attention_mask: 'attentionMask',
  token_type_ids: 'tokenTypeIds',
  position_ids: 'positionIds',
  labels: 'labels',
  start_positions: 'startPositions',
  end_positions: 'endPositions',
  decoder_input_ids: 'decoderInputIds',
  decoder_attention_mask: 'decoderAttentionMask',
};

const OUTPUT_KEYS: Record<string, keyof ModelOutput> = {
  logits: 'logits',
  start_logits: 'startLogits',
  end_logits: 'endLogits',
  last_hidden_state: 'lastHiddenState',
  pooler_output: 'poolerOutput',
};

export function fixtureInputs(io: Map<string, Tensor>): ModelInputs {
  const inputs: Record<string, Tensor> = {};
  for (const [key, name] of Object.entries(INPUT_KEYS)) {
    const t = io.get(key);
    if (t !== undefined) inputs[name] = t;
  }
  return inputs as ModelInputs;
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/** |a − b| ≤ 1e-4 · max|b| + 1e-6 over the tensor. */
export function assertGradClose(actual: Tensor, expected: Tensor, label: string): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  const want = expected.toArray();
  assertClose(actual.toArray(), want, { atol: 1e-4 * maxAbs(want) + 1e-6, rtol: 0 }, label);
}

/** Every output the fixture holds (≤ 1e-4 abs) and its loss (≤ 1e-5 relative). */
export function assertFixtureOutputs(out: ModelOutput, io: Map<string, Tensor>, label: string): void {
  let compared = 0;
  for (const [key, name] of Object.entries(OUTPUT_KEYS)) {
    const want = io.get(key);
    if (want === undefined) continue;
    const got = out[name] as Tensor | undefined;
    assert.ok(got !== undefined, `${label}: model returned no ${name}`);
    assert.deepEqual([...got.shape], [...want.shape], `${label}: ${name} shape`);
    assertClose(got.toArray(), want.toArray(), { atol: 1e-4, rtol: 0 }, `${label}: ${name}`);
    compared++;
  }
  assert.ok(compared > 0, `${label}: fixture has no outputs`);
  const loss = io.get('loss');
  if (loss !== undefined) {
    assert.ok(out.loss !== undefined, `${label}: model returned no loss`);
    const want = loss.item();
    assertClose([out.loss.item()], [want], { atol: 0, rtol: 1e-5 }, `${label}: loss`);
  }
}

/** Forward with inputsEmbeds on a leaf that requires grad, backward from the loss, compare every gradient. */
export function assertFixtureGrads(model: PreTrainedModel, io: Map<string, Tensor>, label: string): void {
  scope(() => {
    const { inputIds, ...rest } = fixtureInputs(io);
    const embeds = noGrad(() => model.getInputEmbeddings().forward(inputIds!)).setRequiresGrad(true);
    const out = model.forward({ ...rest, inputsEmbeds: embeds });
    assertFixtureOutputs(out, io, `${label} (inputsEmbeds)`);
    out.loss!.backward();
    assertGradClose(embeds.grad!, io.get('grad.inputs_embeds')!, `${label}: grad.inputs_embeds`);
    const names = new Set<string>();
    for (const [name, p] of model.namedParameters()) {
      names.add(name);
      const want = io.get(`grad.${name}`);
      if (want === undefined) {
        assert.ok(p.grad === null || maxAbs(p.grad.toArray()) === 0, `${label}: ${name} has a gradient transformers does not`);
      } else {
        assert.ok(p.grad !== null, `${label}: ${name} has no gradient`);
        assertGradClose(p.grad, want, `${label}: grad.${name}`);
      }
      p.zeroGrad();
    }
    for (const key of io.keys()) {
      if (key.startsWith('grad.') && key !== 'grad.inputs_embeds') assert.ok(names.has(key.slice(5)), `${label}: no parameter ${key.slice(5)}`);
    }
  });
}

/** Loads a case with `load`, checks its outputs (and gradients when the fixture has them). */
export async function checkModelFixture(name: string, load: (dir: string) => Promise<PreTrainedModel>): Promise<PreTrainedModel> {
  const dir = modelFixtureDir(name);
  assert.ok(existsSync(dir), `missing fixture ${dir}`);
  const model = await load(dir);
  const io = loadModelIO(name);
  scope(() => assertFixtureOutputs(model.forward(fixtureInputs(io)), io, name));
  if (io.has('grad.inputs_embeds')) assertFixtureGrads(model, io, name);
  for (const t of io.values()) t.dispose();
  return model;
}
