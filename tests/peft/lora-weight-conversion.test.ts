// PiSSA / OLoRA on tiny Llama and GPT-2 (Conv1D) against PEFT (tests/fixtures/peft/pissa, made by
// tools/fixtures/peft_pissa.py): the residual base weights and B0·A0 (sign-invariant), the factors once the
// singular vectors' signs are matched to PEFT's, and the adapter saved with pathInitialModelForWeightConversion —
// tensors, adapter_config.json, the rewritten initial config, and the outputs on the original base model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/autograd.js';
import { matmul } from '../../src/engine/ops/matmul.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { readJsonObject } from '../../src/io/json-file.js';
import { loadSafetensors } from '../../src/io/safetensors-sharded.js';
import { AutoModelForCausalLM } from '../../src/models/auto.js';
import '../../src/models/index.js';
import type { PreTrainedModel } from '../../src/models/pretrained.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { assertClose } from '../helpers/assert-close.js';
import { assertSameConfigText, captureWarnings } from '../helpers/peft.js';
import { fixturePath, repoRoot } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp.js';

const TOL = { atol: 1e-4, rtol: 0 };
const CASES = ['llama-pissa', 'llama-olora', 'gpt2-pissa'];

interface Case {
  dir: string;
  base: string;
  config: Record<string, unknown>;
  expected: Map<string, Tensor>;
  /** PEFT's A0 / B0 by saved key. */
  initial: Map<string, Tensor>;
}

function loadCase(name: string): Case {
  const dir = fixturePath('peft', 'pissa', name);
  const json = readJsonObject(join(dir, 'case.json'));
  return {
    dir,
    base: json['base'] as string,
    config: json['config'] as Record<string, unknown>,
    expected: loadSafetensors(join(dir, 'expected.safetensors')),
    initial: loadSafetensors(join(dir, 'initial', 'adapter_model.safetensors')),
  };
}

async function baseModel(base: string): Promise<PreTrainedModel> {
  const path = `tests/fixtures/models/${base}`;
  const model = await AutoModelForCausalLM.fromPretrained(join(repoRoot, path));
  model.nameOrPath = path;
  return model;
}

function logits(model: PeftModel, c: Case): Tensor {
  const inputs = { inputIds: c.expected.get('input_ids')!, attentionMask: c.expected.get('attention_mask')! };
  return noGrad(() => model.forward(inputs).logits!);
}

function close(actual: Tensor, expected: Tensor, label: string): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  assertClose(actual.toArray(), expected.toArray(), TOL, label);
}

/** The saved keys of the adapter's lora_A entries, each with its lora_B key. */
function factorPairs(state: ReadonlyMap<string, Tensor>): [string, string][] {
  return [...state.keys()].filter((k) => k.endsWith('.lora_A.weight')).map((k) => [k, k.replace('.lora_A.', '.lora_B.')]);
}

/**
 * Flips the sign of each rank component (row i of A with column i of B, which leaves B·A unchanged) whose A row
 * points away from PEFT's; returns how many were flipped.
 */
function matchSigns(A: Tensor, B: Tensor, theirA: Tensor): number {
  const [r, inF] = A.shape as [number, number];
  const a = A.data() as Float32Array;
  const b = B.data() as Float32Array;
  const ref = theirA.toArray();
  let flipped = 0;
  for (let i = 0; i < r; i++) {
    let dot = 0;
    for (let j = 0; j < inF; j++) dot += a[i * inF + j]! * ref[i * inF + j]!;
    if (dot >= 0) continue;
    flipped++;
    for (let j = 0; j < inF; j++) a[i * inF + j] = -a[i * inF + j]!;
    for (let o = 0; o < B.shape[0]!; o++) b[o * r + i] = -b[o * r + i]!;
  }
  return flipped;
}

/** A PiSSA / OLoRA PeftModel of the case on its base model. */
async function peftModelOf(c: Case, overrides: Record<string, unknown> = {}): Promise<PeftModel> {
  const config = captureWarnings(() => LoraConfig.fromJSON({ task_type: 'CAUSAL_LM', ...c.config, ...overrides })).result;
  const model = await baseModel(c.base);
  return captureWarnings(() => getPeftModel(model, config)).result;
}

for (const name of CASES) {
  test(`${name}: init, then the adapter saved with pathInitialModelForWeightConversion, match PEFT`, async () => {
    const c = loadCase(name);
    const peft = await peftModelOf(c);
    const params = new Map(peft.namedParameters());
    const state = peft.getAdapterStateDict();

    // The residual base weights W - s·B0·A0 and the products B0·A0 do not depend on the singular vectors' signs.
    const residuals = [...c.expected.keys()].filter((k) => k.startsWith('residual.'));
    assert.equal(residuals.length, factorPairs(state).length);
    for (const key of residuals) {
      const modelKey = `base_model.model.${key.slice('residual.'.length).replace(/\.weight$/, '.base_layer.weight')}`;
      close(params.get(modelKey)!, c.expected.get(key)!, modelKey);
    }
    let flipped = 0;
    for (const [aKey, bKey] of factorPairs(state)) {
      const [A, B, theirA, theirB] = [state.get(aKey)!, state.get(bKey)!, c.initial.get(aKey)!, c.initial.get(bKey)!];
      noGrad(() => close(matmul(B, A), matmul(theirB, theirA), `B0·A0 of ${aKey}`));
      flipped += matchSigns(A, B, theirA);
      close(A, theirA, aKey);
      close(B, theirB, bKey);
    }
    // OLoRA follows LAPACK's Householder signs, so its factors match PEFT's as they are.
    if (c.config['init_lora_weights'] === 'olora') assert.equal(flipped, 0);

    const tmp = makeTempDir();
    try {
      const initialDir = join(tmp.dir, 'initial');
      peft.savePretrained(initialDir);
      // "Training": the same moves of A and B as PEFT's.
      for (const [key, delta] of c.expected) {
        if (!key.startsWith('perturb.')) continue;
        const t = state.get(key.slice('perturb.'.length))!.data() as Float32Array;
        delta.toArray().forEach((d, i) => (t[i]! += d));
      }
      peft.eval();
      close(logits(peft, c), c.expected.get('trained.logits')!, 'trained logits');

      const outDir = join(tmp.dir, 'converted');
      const { warnings } = captureWarnings(() => peft.savePretrained(outDir, { pathInitialModelForWeightConversion: initialDir }));
      assert.deepEqual(warnings, []);
      const ours = loadSafetensors(join(outDir, 'adapter_model.safetensors'));
      const theirs = loadSafetensors(join(c.dir, 'adapter_model.safetensors'));
      assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
      for (const [k, t] of theirs) close(ours.get(k)!, t, `converted ${k}`);
      const text = (dir: string): string => readFileSync(join(dir, 'adapter_config.json'), 'utf8');
      assertSameConfigText(text(outDir), text(c.dir), `${name} converted config`);
      assertSameConfigText(text(initialDir), text(join(c.dir, 'initial')), `${name} initial config`);
      const live = peft.peftConfig.get('default') as LoraConfig;
      assert.deepEqual([live.r, live.initLoraWeights], [c.config['r'], c.config['init_lora_weights']], 'the live config is unchanged');

      // The converted adapter on the original base model gives the trained model's outputs.
      const converted = await PeftModel.fromPretrained(await baseModel(c.base), outDir);
      close(logits(converted, c), c.expected.get('trained.logits')!, 'converted adapter on the original base');
      close(logits(converted, c), c.expected.get('converted.logits')!, "PEFT's converted adapter on the original base");
    } finally {
      tmp.remove();
    }
  });
}
