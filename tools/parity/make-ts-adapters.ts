// Live parity, peft.js side: for every adapter case of tests/fixtures/peft/adapters, builds an adapter with the
// same config on the same base model, gives every saved tensor seeded random values, and writes <out>/<case>/:
// the adapter as savePretrained saves it and ts-outputs.safetensors (the inputs and our outputs with the adapter
// active, disabled, merged, …). tools/parity/check_ts_adapters.py then loads them with the real PEFT.
// Prints one line per case and, last, `RESULT cases=<n> failures=<k>`; cases whose base model family is not
// implemented are listed as skipped and not counted.
//
// usage: node dist/tools/parity/make-ts-adapters.js <out_dir>
import { join } from 'node:path';
import { randn } from '../../src/engine/ops/creation.js';
import { Generator } from '../../src/engine/random.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { readJsonObject } from '../../src/io/json-file.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import type { PeftModel } from '../../src/peft/peft-model.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { setWarningHandler } from '../../src/peft/utils/warnings.js';
import { adapterCases, collectOutputs, loadBaseModel, loadExpected, unsupportedReason, type AdapterCase } from '../../tests/helpers/peft-cases.js';

/** Seeded values for every tensor an adapter saves (base embedding weights excepted), as the fixture script does. */
function perturb(peft: PeftModel, adapterName: string, seed: number): void {
  const generator = new Generator(seed);
  const state = peft.getAdapterStateDict(adapterName, { saveEmbeddingLayers: false });
  for (const key of [...state.keys()].sort()) {
    const t = state.get(key)!;
    const noise = randn(t.shape, { generator });
    const values = t.data() as Float32Array;
    const delta = noise.data() as Float32Array;
    const scale = key.endsWith('lora_magnitude_vector');
    for (let i = 0; i < values.length; i++) values[i] = scale ? values[i]! * (1 + 0.2 * delta[i]!) : values[i]! + 0.1 * delta[i]!;
    noise.dispose();
  }
}

function trainableConfig(dir: string): LoraConfig {
  return LoraConfig.fromJSON({ ...readJsonObject(join(dir, 'adapter_config.json')), inference_mode: false }, { source: dir });
}

async function makeCase(c: AdapterCase, seed: number, outDir: string): Promise<void> {
  const base = await loadBaseModel(c);
  const { inputs, tensors } = loadExpected(c);
  const peft = getPeftModel(base, trainableConfig(c.dir));
  for (const name of c.extraAdapters) peft.addAdapter(name, trainableConfig(join(c.dir, name)));
  ['default', ...c.extraAdapters].forEach((name, i) => perturb(peft, name, seed * 100 + i));
  peft.eval();
  const mixed = tensors.has('mixed.logits') ? [c.extraAdapters[0]!, '__base__'] : undefined;
  const outputs = collectOutputs(peft, inputs, c.extraAdapters, mixed);
  peft.savePretrained(outDir);
  const record: Record<string, Tensor> = Object.fromEntries(outputs);
  for (const key of ['input_ids', 'attention_mask', 'token_type_ids', 'decoder_input_ids']) {
    const t = tensors.get(key);
    if (t !== undefined) record[key] = t;
  }
  saveSafetensors(join(outDir, 'ts-outputs.safetensors'), record, { format: 'pt' });
  peft.dispose();
}

async function main(out: string | undefined): Promise<number> {
  if (out === undefined) {
    console.error('usage: node dist/tools/parity/make-ts-adapters.js <out_dir>');
    return 2;
  }
  setWarningHandler(() => {}); // the expected ones: bias modes on disable, embedding layers saved, unmerge no-ops
  let cases = 0;
  let failures = 0;
  for (const [i, c] of adapterCases().entries()) {
    const skip = unsupportedReason(c);
    if (skip !== null) {
      console.log(`skip ts adapter ${c.name}: ${skip}`);
      continue;
    }
    cases++;
    try {
      await makeCase(c, 1000 + i, join(out, c.name));
      console.log(`ok   ts adapter ${c.name}`);
    } catch (e) {
      failures++;
      console.log(`FAIL ts adapter ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  console.log(`RESULT cases=${cases} failures=${failures}`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv[2]);
