// Live parity, peft.js side: for every adapter case of tests/fixtures/peft/adapters, builds an adapter with the
// same config on the same base model, gives every saved tensor seeded random values, and writes <out>/<case>/:
// the adapter as savePretrained saves it and ts-outputs.safetensors (the inputs and our outputs with the adapter
// active, disabled, merged, …). The cases of method-cases.ts (prompt learning and every other injected method) go
// the same way, with every trainable tensor moved (prompt encoders, the methods' adapter tensors, modules_to_save
// copies), then the case's training (AdaLoRA's rank allocation) where it has one;
// prompt-learning cases record the outputs with the prompts active. PiSSA / OLoRA cases (the configs of
// tests/fixtures/peft/pissa, and PiSSA with the randomized SVD) are trained the same way and saved with
// pathInitialModelForWeightConversion: PEFT must reproduce, with the converted adapter on the original base model,
// the outputs of our trained PiSSA / OLoRA model (active), the base model (disabled) and the merged model. tools/parity/check_ts_adapters.py then loads them all
// with the real PEFT.
// Prints one line per case and, last, `RESULT cases=<n> failures=<k>`; cases whose base model family is not
// implemented are listed as skipped and not counted.
//
// usage: node dist/tools/parity/make-ts-adapters.js <out_dir>
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randn } from '../../src/engine/ops/creation.js';
import { Generator } from '../../src/engine/random.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { readJsonObject } from '../../src/io/json-file.js';
import { loadSafetensors } from '../../src/io/safetensors-sharded.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { noGrad } from '../../src/engine/autograd.js';
import { PromptLearningConfig } from '../../src/peft/config.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { AutoModelForCausalLM } from '../../src/models/auto.js';
import type { PreTrainedModel } from '../../src/models/pretrained.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { AdaptionPromptConfig } from '../../src/peft/tuners/adaption-prompt/config.js';
import { setWarningHandler } from '../../src/peft/utils/warnings.js';
import { fixturePath, repoRoot } from '../../tests/helpers/paths.js';
import { adapterCases, collectOutputs, loadBaseModel, loadExpected, modelInputsOf, unsupportedReason, type AdapterCase } from '../../tests/helpers/peft-cases.js';
import { methodCases, type MethodCase } from './method-cases.js';

/** Moves each tensor, in key order, by seeded normal noise: `move(value, noise, key)` gives the new value. */
function perturb(tensors: [string, Tensor][], seed: number, move: (value: number, noise: number, key: string) => number): void {
  const generator = new Generator(seed);
  for (const [key, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const noise = randn(t.shape, { generator });
    const values = t.data() as Float32Array;
    const delta = noise.data() as Float32Array;
    for (let i = 0; i < values.length; i++) values[i] = move(values[i]!, delta[i]!, key);
    noise.dispose();
  }
}

/** Seeded values for every tensor a LoRA adapter saves (base embedding weights excepted), as the fixture script does. */
function perturbSaved(peft: PeftModel, adapterName: string, seed: number): void {
  const state = peft.getAdapterStateDict(adapterName, { saveEmbeddingLayers: false });
  perturb([...state], seed, (v, n, key) => (key.endsWith('lora_magnitude_vector') ? v * (1 + 0.2 * n) : v + 0.1 * n));
}

function trainableConfig(dir: string): LoraConfig {
  return LoraConfig.fromJSON({ ...readJsonObject(join(dir, 'adapter_config.json')), inference_mode: false }, { source: dir });
}

async function makeCase(c: AdapterCase, seed: number, outDir: string): Promise<void> {
  const base = await loadBaseModel(c);
  const { inputs, tensors } = loadExpected(c);
  const peft = getPeftModel(base, trainableConfig(c.dir));
  for (const name of c.extraAdapters) peft.addAdapter(name, trainableConfig(join(c.dir, name)));
  ['default', ...c.extraAdapters].forEach((name, i) => perturbSaved(peft, name, seed * 100 + i));
  peft.eval();
  const mixed = tensors.has('mixed.logits') ? [c.extraAdapters[0]!, '__base__'] : undefined;
  const outputs = collectOutputs(peft, inputs, c.extraAdapters, mixed);
  peft.savePretrained(outDir);
  saveOutputs(outDir, outputs, tensors);
  peft.dispose();
}

/** ts-outputs.safetensors: our outputs and the inputs they were computed from. */
function saveOutputs(outDir: string, outputs: Map<string, Tensor>, inputs: ReadonlyMap<string, Tensor>): void {
  const record: Record<string, Tensor> = Object.fromEntries(outputs);
  for (const key of ['input_ids', 'attention_mask', 'token_type_ids', 'decoder_input_ids']) {
    const t = inputs.get(key);
    if (t !== undefined) record[key] = t;
  }
  saveSafetensors(join(outDir, 'ts-outputs.safetensors'), record, { format: 'pt' });
}

/** A case of method-cases.ts: every trainable tensor moved (IA3 vectors around their init of ones, scaled). */
async function makeMethodCase(c: MethodCase, seed: number, outDir: string): Promise<void> {
  const base = await c.auto.fromPretrained(join(repoRoot, c.base));
  base.nameOrPath = c.base;
  const config = c.config();
  const peft = getPeftModel(base, config, { generator: new Generator(seed) });
  const trainable = peft.namedParameters().filter(([, t]) => t.requiresGrad);
  perturb(trainable, seed + 1, (v, n, key) => (key.includes('.ia3_l.') ? v * (1 + 0.3 * n) : v + 0.3 * n));
  peft.eval();
  const tensors = new Map(Object.entries(c.inputs()));
  const inputs = modelInputsOf(tensors);
  c.train?.(peft, { ...inputs, labels: inputs.inputIds });
  const merges = !(config instanceof AdaptionPromptConfig);
  const outputs = config instanceof PromptLearningConfig ? new Map([['active.logits', noGrad(() => peft.forward(inputs)).logits!]]) : collectOutputs(peft, inputs, [], undefined, { merges });
  peft.savePretrained(outDir);
  saveOutputs(outDir, outputs, tensors);
  peft.dispose();
}

async function causalLm(base: string): Promise<PreTrainedModel> {
  const path = `tests/fixtures/models/${base}`;
  const model = await AutoModelForCausalLM.fromPretrained(join(repoRoot, path));
  model.nameOrPath = path;
  return model;
}

/** The PiSSA / OLoRA cases: name, base model folder and LoraConfig JSON. */
function pissaCases(): { name: string; base: string; config: Record<string, unknown> }[] {
  const root = fixturePath('peft', 'pissa');
  const cases = readdirSync(root).sort().map((name) => {
    const json = readJsonObject(join(root, name, 'case.json'));
    return { name: `pissa-${name}`, base: json['base'] as string, config: { task_type: 'CAUSAL_LM', ...(json['config'] as Record<string, unknown>) } };
  });
  const llama = cases.find((c) => c.name === 'pissa-llama-pissa')!;
  return [...cases, { ...llama, name: 'pissa-llama-pissa-niter', config: { ...llama.config, init_lora_weights: 'pissa_niter_4' } }];
}

async function makePissaCase(c: ReturnType<typeof pissaCases>[number], seed: number, outDir: string): Promise<void> {
  const io = loadSafetensors(fixturePath('models', c.base, 'io.safetensors'));
  const inputs = { inputIds: io.get('input_ids')!, attentionMask: io.get('attention_mask')! };
  const peft = getPeftModel(await causalLm(c.base), LoraConfig.fromJSON(c.config));
  const initialDir = `${outDir}-initial`;
  peft.savePretrained(initialDir);
  perturbSaved(peft, 'default', seed);
  peft.eval();
  const trained = noGrad(() => peft.forward(inputs).logits!);
  peft.savePretrained(outDir, { pathInitialModelForWeightConversion: initialDir });
  const converted = await PeftModel.fromPretrained(await causalLm(c.base), outDir);
  const outputs = collectOutputs(converted, inputs, []);
  outputs.set('active.logits', trained);
  saveOutputs(outDir, outputs, io);
  peft.dispose();
  converted.dispose();
}

async function main(out: string | undefined): Promise<number> {
  if (out === undefined) {
    console.error('usage: node dist/tools/parity/make-ts-adapters.js <out_dir>');
    return 2;
  }
  setWarningHandler(() => {}); // the expected ones: bias modes on disable, embedding layers saved, unmerge no-ops
  let cases = 0;
  let failures = 0;
  const run = async (name: string, make: (dir: string) => Promise<void>): Promise<void> => {
    cases++;
    try {
      await make(join(out, name));
      console.log(`ok   ts adapter ${name}`);
    } catch (e) {
      failures++;
      console.log(`FAIL ts adapter ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  for (const [i, c] of adapterCases().entries()) {
    const skip = unsupportedReason(c);
    if (skip !== null) console.log(`skip ts adapter ${c.name}: ${skip}`);
    else await run(c.name, (dir) => makeCase(c, 1000 + i, dir));
  }
  for (const [i, c] of pissaCases().entries()) await run(c.name, (dir) => makePissaCase(c, 2000 + i, dir));
  for (const [i, c] of methodCases().entries()) await run(c.name, (dir) => makeMethodCase(c, 5000 + 10 * i, dir));
  console.log(`RESULT cases=${cases} failures=${failures}`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv[2]);
