// Live parity of `peftjs merge`, peft.js side: for a tiny Llama and a tiny GPT-2 made by transformers
// (tests/fixtures/models), builds a LoRA adapter on every linear layer, gives its weights seeded random
// values, records the unmerged PeftModel's logits on the fixture's inputs, saves the adapter and runs
// `peftjs merge` on it. Writes <out>/<case>/: adapter/, merged/ (the CLI's output) and
// ts-outputs.safetensors (input_ids, attention_mask, logits). tools/parity/check_ts_merges.py then
// loads merged/ with transformers. Prints one line per case and, last, `RESULT cases=<n> failures=<k>`.
//
// usage: node dist/tools/parity/make-ts-merges.js <out_dir>
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { noGrad } from '../../src/engine/autograd.js';
import { randn } from '../../src/engine/ops/creation.js';
import { Generator } from '../../src/engine/random.js';
import { loadSafetensors } from '../../src/io/safetensors-sharded.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { main as cli } from '../../src/cli/main.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { fixturePath } from '../../tests/helpers/paths.js';

/** The fixture model and the LoRA settings of each case (GPT-2's Conv1D layers store weights [in, out]). */
const CASES: { name: string; lora: { targetModules: string[]; fanInFanOut?: boolean } }[] = [
  { name: 'llama-lm', lora: { targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] } },
  { name: 'gpt2-lm', lora: { targetModules: ['c_attn', 'c_proj', 'c_fc'], fanInFanOut: true } },
];

/** Runs the peftjs CLI in this process; throws with its error output when it fails. */
async function runCli(args: string[]): Promise<void> {
  let errors = '';
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const err = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      errors += chunk.toString();
      done();
    },
  });
  const status = await cli(args, sink, err);
  if (status !== 0) throw new Error(`peftjs ${args[0]} exited with ${status}: ${errors.trim()}`);
}

async function makeCase(name: string, lora: (typeof CASES)[number]['lora'], seed: number, outDir: string): Promise<void> {
  const modelDir = fixturePath('models', name);
  const io = loadSafetensors(join(modelDir, 'io.safetensors'));
  const inputs = { inputIds: io.get('input_ids')!, attentionMask: io.get('attention_mask')! };
  const peft = getPeftModel(await AutoModelForCausalLM.fromPretrained(modelDir), new LoraConfig({ taskType: 'CAUSAL_LM', r: 4, loraAlpha: 8, ...lora }));
  const generator = new Generator(seed);
  for (const t of peft.getAdapterStateDict().values()) {
    const noise = randn(t.shape, { std: 0.2, generator });
    (t.data() as Float32Array).set(noise.data() as Float32Array);
    noise.dispose();
  }
  peft.eval();
  const logits = noGrad(() => peft.forward(inputs).logits!);
  const adapterDir = join(outDir, 'adapter');
  peft.savePretrained(adapterDir);
  peft.dispose();
  await runCli(['merge', '--model', modelDir, '--adapter', adapterDir, '--output', join(outDir, 'merged')]);
  saveSafetensors(join(outDir, 'ts-outputs.safetensors'), { input_ids: inputs.inputIds, attention_mask: inputs.attentionMask, logits }, { format: 'pt' });
}

async function main(out: string | undefined): Promise<number> {
  if (out === undefined) {
    console.error('usage: node dist/tools/parity/make-ts-merges.js <out_dir>');
    return 2;
  }
  let failures = 0;
  for (const [i, { name, lora }] of CASES.entries()) {
    try {
      await makeCase(name, lora, 2000 + i, join(out, name));
      console.log(`ok   ts merge ${name}`);
    } catch (e) {
      failures++;
      console.log(`FAIL ts merge ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  console.log(`RESULT cases=${CASES.length} failures=${failures}`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv[2]);
