// The main job on the shipped base model: LoRA fine-tuning of models/tiny-llama (a 4-layer Llama
// pretrained by peft.js on the Brown corpus and Debian fortunes) on the bundled fortune-telling
// instructions, with generations before and after. The adapter lands in out/demo-adapter and loads
// in Python PEFT on the same base.
// Usage: npm run demo [-- --max-steps N]
import { readFileSync } from 'node:fs';
import { AutoModelForCausalLM, generate, loadTokenizer, PeftModel } from '../src/index.js';
import { main } from '../src/cli/main.js';

const BASE = 'models/tiny-llama';
const DATA = 'data/fortunes/instructions.jsonl';
const OUT = 'out/demo-adapter';
const maxStepsFlag = process.argv.indexOf('--max-steps');
const maxSteps = maxStepsFlag >= 0 ? process.argv[maxStepsFlag + 1]! : '150';

const prompts = ['Tell me a fortune about cats.', 'Share a saying about love.', 'Give me a short quote about work.'];
const tokenizer = await loadTokenizer(BASE);
const chats = prompts.map((content) => [{ role: 'user', content }]);

async function show(title: string, model: Parameters<typeof generate>[0]): Promise<void> {
  console.log(`\n${title}`);
  const result = await generate(model, chats, { tokenizer, maxNewTokens: 40, doSample: false, repetitionPenalty: 1.2 });
  result.text!.forEach((text, i) => console.log(`  ${prompts[i]}\n    → ${text.trim().replace(/\s+/g, ' ')}`));
}

const records = readFileSync(DATA, 'utf8').trim().split('\n').length;
console.log(`base model: ${BASE}; data: ${DATA} (${records} prompt/completion records)`);
await show('Before fine-tuning (base model):', await AutoModelForCausalLM.fromPretrained(BASE));

const status = await main([
  'train', '--model', BASE, '--data', DATA, '--output', OUT,
  '--r', '16', '--lora-alpha', '32', '--target-modules', 'q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj',
  '--learning-rate', '2e-3', '--max-steps', maxSteps, '--batch-size', '8', '--warmup-steps', '20',
  '--validation-size', '40', '--logging-steps', '25', '--save-steps', '100', '--save-total-limit', '1', '--seed', '0',
]);
if (status !== 0) process.exit(status);

const tuned = await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(BASE), OUT);
await show('After LoRA fine-tuning:', tuned.getBaseModel() as Parameters<typeof generate>[0]);
console.log(`\nadapter: ${OUT}/adapter_config.json + adapter_model.safetensors; metrics: ${OUT}/metrics.jsonl, loss curve: ${OUT}/loss.svg`);
