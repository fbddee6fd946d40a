// The generation fixtures of tools/fixtures/generation_models.py (tests/fixtures/generation/models/<case>):
// transformers' greedy sequences on the tiny model fixtures, and the PEFT adapters they used, loaded
// into a LoraModel.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Storage, type Tensor } from '../../src/engine/index.js';
import { generate, type GenerativeModel } from '../../src/generate/index.js';
import { loadSafetensors } from '../../src/io/index.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, type AutoModelClass, type ModelInputs, type ModelOutput, type PreTrainedModel } from '../../src/models/index.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
import { assertClose } from './assert-close.js';
import { fixturePath } from './paths.js';

export interface GenerationModelFixture {
  model: string;
  new_tokens: number;
  pad_token_id: number;
  input_ids: number[][];
  attention_mask: number[][];
  single_input_ids: number[][];
  cases: Record<string, number[][] | { adapter_names: string[]; sequences: number[][] }>;
}

export const generationModelCases = (): string[] => readdirSync(fixturePath('generation', 'models')).sort();

export function generationModelFixture(name: string): GenerationModelFixture {
  return JSON.parse(readFileSync(fixturePath('generation', 'models', name, 'expected.json'), 'utf8')) as GenerationModelFixture;
}

export function fixtureSequences(f: GenerationModelFixture, name: string): number[][] {
  const c = f.cases[name];
  if (c === undefined) throw new Error(`generation fixture ${f.model}: no case '${name}'`);
  return Array.isArray(c) ? c : c.sequences;
}

/** AutoModelForSeq2SeqLM for encoder-decoder cases, else AutoModelForCausalLM. */
export function fixtureAutoClass(name: string): AutoModelClass {
  const config = JSON.parse(readFileSync(fixturePath('models', name, 'config.json'), 'utf8')) as { is_encoder_decoder?: boolean };
  return config.is_encoder_decoder === true ? AutoModelForSeq2SeqLM : AutoModelForCausalLM;
}

export function loadFixtureModel(name: string): Promise<PreTrainedModel> {
  return fixtureAutoClass(name).fromPretrained(fixturePath('models', name));
}

/** Copies PEFT's saved adapter weights (base_model.model.<path>.lora_X.weight) into adapter `adapter` of `lora`. */
function loadAdapterWeights(lora: LoraModel, dir: string, adapter: string): void {
  const params = new Map(lora.namedParameters());
  for (const [key, t] of loadSafetensors(join(dir, 'adapter_model.safetensors'))) {
    const name = key.replace(/^base_model\./, '').replace(/\.(lora_[AB])\.weight$/, `.$1.${adapter}.weight`);
    const target = params.get(name);
    if (target === undefined || target.size !== t.size) throw new Error(`adapter ${adapter}: no parameter ${name} of ${t.size} values`);
    target.data().set(t.data());
    t.dispose();
  }
}

/** The fixture model with the fixture's adapters "first" (active) and "second", in eval mode. */
export async function loadFixtureLoraModel(name: string): Promise<LoraModel<PreTrainedModel>> {
  const model = await loadFixtureModel(name);
  const dir = (adapter: string) => fixturePath('generation', 'models', name, 'adapters', adapter);
  const config = (adapter: string) => LoraConfig.fromJSON(JSON.parse(readFileSync(join(dir(adapter), 'adapter_config.json'), 'utf8')));
  const lora = new LoraModel(model, config('first'), 'first');
  lora.addAdapter('second', config('second'));
  for (const adapter of ['first', 'second']) {
    if (!existsSync(dir(adapter))) throw new Error(`${name}: no adapter folder ${adapter}`);
    loadAdapterWeights(lora, dir(adapter), adapter);
  }
  return lora.eval();
}

/** Calls `model.forward` through a spy that records the last position's logits [B, V] of every call. */
function recordLastLogits(model: PreTrainedModel): Float32Array[] {
  const seen: Float32Array[] = [];
  const forward = model.forward.bind(model);
  model.forward = (inputs: ModelInputs): ModelOutput => {
    const out = forward(inputs);
    const [b, t, v] = out.logits!.shape as [number, number, number];
    const all = out.logits!.toArray();
    seen.push(Float32Array.from({ length: b * v }, (_, i) => all[(Math.floor(i / v) * t + t - 1) * v + (i % v)]!));
    return out;
  };
  return seen;
}

/**
 * Greedy generate() through `model` (with adapters around `base`) against PEFT's generate of a fixture
 * (`generate.input_ids` / `attention_mask` / `sequences` / `logits`): the tokens, the logits of every step (one
 * forward each) and nothing left allocated afterwards.
 */
export async function checkFixtureGeneration(model: GenerativeModel, base: PreTrainedModel, expected: ReadonlyMap<string, Tensor>): Promise<void> {
  const rows = (key: string): number[][] => {
    const t = expected.get(key)!;
    return Array.from({ length: t.shape[0]! }, (_, i) => [...t.data().subarray(i * t.shape[1]!, (i + 1) * t.shape[1]!)]);
  };
  const logits = expected.get('generate.logits')!;
  const [b, steps, vocab] = logits.shape as [number, number, number];
  const seen = recordLastLogits(base);
  const run = () => generate(model, { inputIds: rows('generate.input_ids'), attentionMask: rows('generate.attention_mask') }, { maxNewTokens: steps, padTokenId: 0, eosTokenId: null });
  const out = await run();
  assert.deepEqual(out.sequences, rows('generate.sequences'));
  assert.equal(seen.length, steps, 'one forward per generated token');
  const live = Storage.liveCount;
  await run();
  assert.equal(Storage.liveCount, live, 'the cache and the prompt are freed after generation');
  const want = logits.toArray();
  seen.slice(0, steps).forEach((step, k) => {
    const expectedStep = Float32Array.from({ length: b * vocab }, (_, i) => want[(Math.floor(i / vocab) * steps + k) * vocab + (i % vocab)]!);
    assertClose(step, expectedStep, { atol: 1e-4, rtol: 0 }, `step ${k} logits`);
  });
}
