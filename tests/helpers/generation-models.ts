// The generation fixtures of tools/fixtures/generation_models.py (tests/fixtures/generation/models/<case>):
// transformers' greedy sequences on the tiny model fixtures, and the PEFT adapters they used, loaded
// into a LoraModel.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/index.js';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, type AutoModelClass, type PreTrainedModel } from '../../src/models/index.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
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
