// Runs a model against a transformers fixture (tests/fixtures/models/<case>, written by
// tools/fixtures/models*.py): io.safetensors holds the inputs, the reference outputs and loss, and for
// gradient cases grad.inputs_embeds plus grad.<parameter> for every parameter that got a gradient.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { loadSafetensors } from '../../src/io/index.js';
import { noGrad, scope, type Tensor } from '../../src/engine/index.js';
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForMaskedLM,
  AutoModelForQuestionAnswering,
  AutoModelForSeq2SeqLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  type AutoModelClass,
  type ModelInputs,
  type ModelOutput,
  type PreTrainedModel,
} from '../../src/models/index.js';
import { assertClose } from './assert-close.js';
import { fixturePath } from './paths.js';

/** Tolerances: outputs absolute, loss relative, gradients relative to the tensor's max-abs. */
export const OUTPUT_ATOL = 1e-4;
export const LOSS_RTOL = 1e-5;
export const GRAD_RTOL = 1e-4;
export const GRAD_ATOL = 1e-6;

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
  encoder_last_hidden_state: 'encoderLastHiddenState',
};

export function modelFixtureDir(name: string): string {
  return fixturePath('models', name);
}

/** Fixture case names starting with `<family>-` for any of the families. */
export function modelFixtureCases(...families: string[]): string[] {
  return readdirSync(fixturePath('models'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && families.some((f) => entry.name.startsWith(`${f}-`)))
    .map((entry) => entry.name)
    .sort();
}

const AUTO_BY_SUFFIX: [RegExp, AutoModelClass][] = [
  [/(ForCausalLM|LMHeadModel)$/, AutoModelForCausalLM],
  [/ForConditionalGeneration$/, AutoModelForSeq2SeqLM],
  [/ForSequenceClassification$/, AutoModelForSequenceClassification],
  [/ForTokenClassification$/, AutoModelForTokenClassification],
  [/ForQuestionAnswering$/, AutoModelForQuestionAnswering],
  [/ForMaskedLM$/, AutoModelForMaskedLM],
  [/Model$/, AutoModel],
];

/** The Auto class for a case, from the architecture transformers saved in its config.json. */
export function autoClassFor(name: string): AutoModelClass {
  const config = JSON.parse(readFileSync(fixturePath('models', name, 'config.json'), 'utf8')) as { architectures?: string[] };
  const arch = config.architectures?.[0] ?? '';
  const found = AUTO_BY_SUFFIX.find(([re]) => re.test(arch));
  if (found === undefined) throw new Error(`${name}: no Auto class for architecture ${arch}`);
  return found[1];
}

/** io.safetensors of a case: inputs, expected outputs and gradients. */
export function loadModelIO(name: string): Map<string, Tensor> {
  return loadSafetensors(fixturePath('models', name, 'io.safetensors'));
}

/** The fixture's inputs under ModelInputs names. */
export function fixtureInputs(io: Map<string, Tensor>): ModelInputs {
  const inputs: ModelInputs = {};
  for (const [key, field] of Object.entries(INPUT_KEYS)) {
    const t = io.get(key);
    if (t !== undefined) (inputs as Record<string, Tensor>)[field] = t;
  }
  return inputs;
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/** |a − b| ≤ atol + rtol·|b| element-wise, or ≤ atol + rtol·max|b| with `relativeToMax`. */
export function assertTensorMatches(actual: Tensor, expected: Tensor, tol: { atol: number; rtol: number; relativeToMax?: boolean }, label: string): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  const e = expected.toArray();
  const bound = tol.relativeToMax ? { atol: tol.atol + tol.rtol * maxAbs(e), rtol: 0 } : tol;
  assertClose(actual.toArray(), e, bound, label);
}

/** Every reference output and the loss of the fixture against the model's output. */
export function assertOutputsMatch(out: ModelOutput, io: Map<string, Tensor>, label: string): void {
  let compared = 0;
  for (const [key, field] of Object.entries(OUTPUT_KEYS)) {
    const expected = io.get(key);
    if (expected === undefined) continue;
    const actual = out[field] as Tensor | undefined;
    assert.ok(actual !== undefined, `${label}: output has no ${field}`);
    assertTensorMatches(actual, expected, { atol: OUTPUT_ATOL, rtol: 0 }, `${label} ${key}`);
    compared++;
  }
  assert.ok(compared > 0, `${label}: the fixture holds no outputs`);
  const loss = io.get('loss');
  assert.equal(out.loss !== undefined, loss !== undefined, `${label}: loss ${out.loss === undefined ? 'missing' : 'unexpected'}`);
  if (loss !== undefined) assertTensorMatches(out.loss!.detach().view([1]), loss, { atol: 0, rtol: LOSS_RTOL }, `${label} loss`);
}

/** grad.inputs_embeds and grad.<name> for every parameter; parameters without a reference have no grad. */
export function assertGradsMatch(model: PreTrainedModel, embeds: Tensor, io: Map<string, Tensor>, label: string): void {
  const tol = { atol: GRAD_ATOL, rtol: GRAD_RTOL, relativeToMax: true };
  assert.ok(embeds.grad !== null, `${label}: inputs_embeds got no gradient`);
  assertTensorMatches(embeds.grad, io.get('grad.inputs_embeds')!, tol, `${label} grad.inputs_embeds`);
  const names = new Set<string>();
  for (const [name, p] of model.namedParameters()) {
    names.add(name);
    const expected = io.get(`grad.${name}`);
    if (expected === undefined) {
      assert.equal(p.grad, null, `${label}: ${name} got a gradient; transformers gives it none`);
      continue;
    }
    assert.ok(p.grad !== null, `${label}: ${name} got no gradient`);
    assertTensorMatches(p.grad, expected, tol, `${label} grad.${name}`);
  }
  const unmatched = [...io.keys()].filter((k) => k.startsWith('grad.') && k !== 'grad.inputs_embeds' && !names.has(k.slice(5)));
  assert.deepEqual(unmatched, [], `${label}: reference gradients for parameters the model does not have`);
}

/**
 * Loads the case with `load`, runs the fixture's inputs and compares outputs and loss; a gradient
 * case also runs from a leaf inputs_embeds (the embedding of input_ids, as the fixture did),
 * compares its outputs and every gradient. The model is disposed.
 */
export async function checkModelFixture(name: string, load: (dir: string) => Promise<PreTrainedModel>): Promise<void> {
  const io = loadModelIO(name);
  const model = await load(modelFixtureDir(name));
  try {
    scope(() => {
      const inputs = fixtureInputs(io);
      assertOutputsMatch(noGrad(() => model.forward(inputs)), io, name);
      if (!io.has('grad.inputs_embeds')) return;
      const embeds = noGrad(() => model.getInputEmbeddings().forward(inputs.inputIds!)).setRequiresGrad(true);
      const out = model.forward({ ...inputs, inputIds: undefined, inputsEmbeds: embeds });
      assertOutputsMatch(out, io, `${name} (inputsEmbeds)`);
      out.loss!.backward();
      assertGradsMatch(model, embeds, io, name);
      embeds.zeroGrad();
    });
  } finally {
    for (const p of model.parameters()) p.zeroGrad();
    model.dispose();
    for (const t of io.values()) t.dispose();
  }
}
