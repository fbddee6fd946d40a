// The fixtures of tools/fixtures/peft_prompt_ia3.py (and of peft_lycoris.py and peft_vera.py, laid out the same way
// under other roots): one folder per adapter PEFT made (adapter_config.json, adapter_model.safetensors,
// expected.safetensors, case.json) and reference.json.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../../src/engine/autograd.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification } from '../../src/models/index.js';
import type { ModelInputs, ModelOutput } from '../../src/models/outputs.js';
import type { Module } from '../../src/nn/module.js';
import { PeftConfig } from '../../src/peft/config.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import type { BaseTuner, TunerConfig } from '../../src/peft/tuners/base-tuner.js';
import { loadSafetensors } from '../../src/io/index.js';
import { assertTensorMatches } from './model-fixtures.js';
import { fixturePath, repoRoot } from './paths.js';
import { captureWarningsAsync } from './peft.js';

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

/** The cases under `root` (the prompt-learning / (IA)³ fixtures by default; the LyCORIS and VeRA ones share the layout). */
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

/** Case `name` under `root` with PEFT's seeded adapter values in a fresh PeftModel (buildFromSavedConfig), in eval mode. */
export async function perturbedCase(name: string, root: string): Promise<{ c: PromptIa3Case; expected: Map<string, Tensor>; peft: PeftModel }> {
  const c = promptIa3Case(name, root);
  const expected = loadExpected(c);
  const peft = await buildFromSavedConfig(c);
  setFixtureParams(peft, expected);
  peft.eval();
  return { c, expected, peft };
}

/** The fixture's adapter values (`param.<PEFT name>`) into the module's parameters; `prefix` turns our names into PEFT's. */
export function setFixtureParams(module: Module, expected: Map<string, Tensor>, prefix = ''): void {
  for (const [name, t] of module.namedParameters()) {
    const value = expected.get(`param.${prefix}${name}`);
    if (value !== undefined) t.data().set(value.data());
  }
}

/** The model inputs a case recorded (`input.<name>`). */
export function fixtureInputs(expected: Map<string, Tensor>): ModelInputs {
  const get = (k: string): Tensor | undefined => expected.get(`input.${k}`);
  return { inputIds: get('input_ids'), attentionMask: get('attention_mask'), tokenTypeIds: get('token_type_ids'), labels: get('labels') };
}

/** Logits (1e-4) and loss against the case's `<prefix>logits` / `<prefix>loss`. */
export function checkFixtureOutputs(out: ModelOutput, expected: Map<string, Tensor>, prefix: string, label: string): void {
  assertTensorMatches(out.logits!, expected.get(`${prefix}logits`)!, { atol: 1e-4, rtol: 0 }, `${label} logits`);
  assertTensorMatches(out.loss!.detach().view([1]), expected.get(`${prefix}loss`)!, { atol: 0, rtol: 1e-5 }, `${label} loss`);
}

/**
 * A fresh PeftModel with the case's adapter against PEFT's: the trainable parameters, their counts and the keys and
 * shapes it saves; with `layerClass`, also the modules that got an adapter layer.
 */
export function assertSetUpAsPeft(peft: PeftModel, c: PromptIa3Case, layerClass?: abstract new (...args: never[]) => Module): void {
  if (layerClass !== undefined) assert.deepEqual([...peft.namedModules()].filter(([, m]) => m instanceof layerClass).map(([n]) => n), c.meta['modules']);
  assert.deepEqual(peft.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => n), c.trainable);
  const { trainable, all } = peft.getNbTrainableParameters();
  assert.deepEqual([trainable, all], c.counts);
  assert.deepEqual(Object.fromEntries([...peft.getAdapterStateDict()].map(([k, t]) => [k, [...t.shape]])), c.saved);
}

/**
 * `peft`, loaded from the case's folder, saves it back: the same adapter_model.safetensors bytes and the same
 * config (a task class adds its heads to modules_to_save again on loading, as PEFT's from_pretrained does).
 */
export function assertSavesBack(peft: PeftModel, c: PromptIa3Case): void {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-saved-'));
  try {
    peft.savePretrained(dir);
    assert.deepEqual(readFileSync(join(dir, 'adapter_model.safetensors')), readFileSync(join(c.dir, 'adapter_model.safetensors')));
    const saved = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    const theirs = JSON.parse(readFileSync(join(c.dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    if (c.taskType === 'SEQ_CLS') theirs['modules_to_save'] = ['classifier', 'score', 'classifier', 'score'];
    assert.deepEqual(saved, theirs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Auto class of a case's task. */
export function autoModelFor(c: PromptIa3Case): typeof AutoModelForCausalLM {
  return ({ SEQ_CLS: AutoModelForSequenceClassification, SEQ_2_SEQ_LM: AutoModelForSeq2SeqLM }[c.taskType] ?? AutoModelForCausalLM) as typeof AutoModelForCausalLM;
}

/** The case's adapter as getPeftModel makes it from PEFT's saved config (the task class adds its heads to modules_to_save again). */
export async function buildFromSavedConfig(c: PromptIa3Case): Promise<PeftModel> {
  const model = await autoModelFor(c).fromPretrained(c.baseDir);
  model.nameOrPath = `tests/fixtures/models/${c.meta['base'] as string}`;
  const config = PeftConfig.fromJSON({ ...(JSON.parse(readFileSync(join(c.dir, 'adapter_config.json'), 'utf8')) as object), inference_mode: false });
  if (c.taskType === 'SEQ_CLS') Object.assign(config, { modulesToSave: null });
  return getPeftModel(model, config);
}

/** The gradient of every trainable parameter against the case's `grad.<name>`, and no fewer than PEFT recorded. */
export function checkFixtureGradients(peft: PeftModel, expected: Map<string, Tensor>): void {
  let compared = 0;
  for (const [n, t] of peft.namedParameters()) {
    if (!t.requiresGrad) continue;
    const g = expected.get(`grad.${n}`);
    assert.ok(g !== undefined && t.grad !== null, `${n}: gradient`);
    assertTensorMatches(t.grad, g, { atol: 1e-6, rtol: 1e-4, relativeToMax: true }, `grad ${n}`);
    compared++;
  }
  assert.equal(compared, [...expected.keys()].filter((k) => k.startsWith('grad.')).length);
}

/**
 * A case's PeftModel (with the fixture's values set) against PEFT: outputs, loss and gradients, then the outputs with
 * the adapter disabled, merged and unmerged again, and the base weights as unmerging left them (`unmerged.<name>`).
 */
export function checkFixtureForwardAndMerges(peft: PeftModel, expected: Map<string, Tensor>, label: string, options: { safeMerge?: boolean; unmergedAtol?: number } = {}): void {
  const x = fixtureInputs(expected);
  const run = (): ModelOutput => noGrad(() => peft.forward(x));
  const out = peft.forward(x);
  checkFixtureOutputs(out, expected, '', label);
  out.loss!.backward();
  checkFixtureGradients(peft, expected);
  checkFixtureOutputs(peft.disableAdapter(run), expected, 'disabled.', `${label} disabled`);
  peft.mergeAdapter(undefined, { safeMerge: options.safeMerge ?? false });
  checkFixtureOutputs(run(), expected, 'merged.', `${label} merged`);
  peft.unmergeAdapter();
  checkFixtureOutputs(run(), expected, 'unmerged.', `${label} unmerged`);
  let compared = 0;
  for (const [n, t] of peft.namedParameters()) {
    const w = expected.get(`unmerged.${n}`);
    if (w === undefined) continue;
    assertTensorMatches(t, w, { atol: options.unmergedAtol ?? 1e-6, rtol: options.unmergedAtol === undefined ? 1e-6 : 0 }, `unmerged ${n}`);
    compared++;
  }
  const recorded = [...expected.keys()].filter((k) => k.startsWith('unmerged.') && !/^unmerged\.(logits|loss|last_hidden_state)$/.test(k));
  assert.equal(compared, recorded.length, `${label}: every unmerged weight PEFT recorded is one of ours`);
}

/**
 * A second adapter `other`, just added to the case's model (frozen, as an added adapter is), with the case's values:
 * active after `default` (`both.`) and merged in that order (`both_merged.`); unmerged and deleted, the case's own
 * outputs again.
 */
export function checkSecondAdapter(peft: PeftModel, expected: Map<string, Tensor>): void {
  const others = peft.namedParameters().filter(([n]) => n.includes('.other'));
  assert.ok(others.length > 0 && others.every(([, t]) => !t.requiresGrad), 'an added adapter is frozen');
  setFixtureParams(peft, expected);
  peft.eval();
  const x = fixtureInputs(expected);
  const run = (): ModelOutput => noGrad(() => peft.forward(x));
  const tuner = peft.baseModel as BaseTuner<TunerConfig>;
  tuner.setAdapter(['default', 'other']);
  checkFixtureOutputs(run(), expected, 'both.', 'both');
  tuner.mergeAdapter(['default', 'other']);
  checkFixtureOutputs(run(), expected, 'both_merged.', 'both merged');
  tuner.unmergeAdapter();
  peft.setAdapter('default');
  peft.deleteAdapter('other');
  assert.ok(!peft.namedParameters().some(([n]) => n.includes('.other')));
  checkFixtureOutputs(run(), expected, '', 'after deleting other');
}

/** mergeAndUnload leaves no `layerClass` layer behind, and the plain model gives PEFT's merged outputs. */
export function checkMergeAndUnload(peft: PeftModel, expected: Map<string, Tensor>, layerClass: abstract new (...args: never[]) => Module, label: string): void {
  const merged = peft.mergeAndUnload() as Module & { forward(x: ModelInputs): ModelOutput };
  assert.ok(![...merged.namedModules()].some(([, m]) => m instanceof layerClass), `${label}: adapter layers left after merge_and_unload`);
  checkFixtureOutputs(noGrad(() => merged.forward(fixtureInputs(expected))), expected, 'merged.', `${label} merge_and_unload`);
}

/** PEFT's saved folder of the case, loaded through PeftModel.fromPretrained, with the warnings loading gave. */
export function loadPeftFolder(c: PromptIa3Case): Promise<{ result: PeftModel; warnings: string[] }> {
  return captureWarningsAsync(async () => PeftModel.fromPretrained(await autoModelFor(c).fromPretrained(c.baseDir), c.dir));
}

/**
 * PEFT's saved folder of the case loads, saves back byte for byte and gives PEFT's outputs (saved first: a forward
 * pass may rewrite adapter tensors, as OFT's COFT projection does). Returns the warnings loading gave.
 */
export async function checkPeftFolderRoundTrip(c: PromptIa3Case): Promise<string[]> {
  const expected = loadExpected(c);
  const { result: peft, warnings } = await loadPeftFolder(c);
  assertSavesBack(peft, c);
  checkFixtureOutputs(noGrad(() => peft.forward(fixtureInputs(expected))), expected, '', `${c.name} loaded`);
  return warnings;
}
