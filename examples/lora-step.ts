// A minimal LoRA fine-tuning loop on a model folder: wrap the model with getPeftModel, train a few
// steps with AdamW, save a PEFT-compatible adapter, and load it back.
// Usage: node dist/examples/lora-step.js <model-dir> <adapter-out-dir>
import {
  AdamW, AutoModelForCausalLM, fromArray, getPeftModel, LoraConfig, PeftModel, scope, TaskType,
} from '../src/index.js';

const [modelDir, outDir] = process.argv.slice(2) as [string, string];
const model = await AutoModelForCausalLM.fromPretrained(modelDir);
const peft = getPeftModel(model, new LoraConfig({ taskType: TaskType.CAUSAL_LM, r: 8, loraAlpha: 16, targetModules: new Set(['q_proj', 'v_proj']) }));
peft.printTrainableParameters();

const optimizer = new AdamW(peft.parameters().filter((p) => p.requiresGrad), { lr: 1e-3 });
const inputIds = fromArray(Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7) % 90 + 3), [2, 16], 'int32');
peft.train();
for (let step = 0; step < 5; step++) {
  const loss = scope(() => {
    const out = peft.forward({ inputIds, labels: inputIds });
    out.loss!.backward();
    return out.loss!.item();
  });
  optimizer.step();
  optimizer.zeroGrad();
  console.log(`step ${step} loss ${loss.toFixed(4)}`);
}
peft.savePretrained(outDir);
const reloaded = await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(modelDir), outDir);
console.log(`reloaded adapter '${reloaded.activeAdapters.join(',')}' from ${outDir}`);
