// PiSSA / OLoRA on tiny Llama and GPT-2 (Conv1D) against PEFT (tests/fixtures/peft/pissa, made by
// tools/fixtures/peft_pissa.py): the residual base weights and B0·A0 (sign-invariant), the factors once the
// singular vectors' signs are matched to PEFT's, and the adapter saved with pathInitialModelForWeightConversion —
// tensors, adapter_config.json, the rewritten initial config, and the outputs on the original base model.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/autograd.js';
import { randn } from '../../src/engine/ops/creation.js';
import { Generator } from '../../src/engine/random.js';
import { matmul } from '../../src/engine/ops/matmul.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { readJsonObject } from '../../src/io/json-file.js';
import { loadSafetensors } from '../../src/io/safetensors-sharded.js';
import { AutoModelForCausalLM } from '../../src/models/auto.js';
import '../../src/models/index.js';
import type { PreTrainedModel } from '../../src/models/pretrained.js';
import { getPeftModel } from '../../src/peft/mapping-func.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { AdapterError, AdapterWeightsError, ConfigError, UnsupportedError } from '../../src/peft/errors.js';
import { IA3Config } from '../../src/peft/tuners/ia3/config.js';
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

/** The logits on the input_ids / attention_mask recorded in `io`. */
function logits(model: PeftModel, io: ReadonlyMap<string, Tensor>): Tensor {
  const inputs = { inputIds: io.get('input_ids')!, attentionMask: io.get('attention_mask')! };
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
async function peftModelOf(c: Case): Promise<PeftModel> {
  const config = captureWarnings(() => LoraConfig.fromJSON({ task_type: 'CAUSAL_LM', ...c.config })).result;
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
      close(logits(peft, c.expected), c.expected.get('trained.logits')!, 'trained logits');

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
      close(logits(converted, c.expected), c.expected.get('trained.logits')!, 'converted adapter on the original base');
      close(logits(converted, c.expected), c.expected.get('converted.logits')!, "PEFT's converted adapter on the original base");
    } finally {
      tmp.remove();
    }
  });
}

/** A PeftModel on tiny Llama with `options` (a fresh base model each time). */
async function llamaPeft(options: ConstructorParameters<typeof LoraConfig>[0]): Promise<PeftModel> {
  const config = captureWarnings(() => new LoraConfig({ taskType: 'CAUSAL_LM', ...options })).result;
  const model = await baseModel('llama-lm');
  return captureWarnings(() => getPeftModel(model, config)).result;
}

/** Adds seeded noise to every saved tensor of the adapter, as training would move them. */
function perturb(peft: PeftModel, seed: number): void {
  const generator = new Generator(seed);
  for (const t of peft.getAdapterStateDict().values()) {
    const noise = randn(t.shape, { std: 0.05, generator });
    const data = t.data() as Float32Array;
    noise.toArray().forEach((d, i) => (data[i]! += d));
    noise.dispose();
  }
}

test('pissa_niter_<n> (randomized SVD, not bit-equal to torch): the output is kept at init and the converted adapter reproduces training', async () => {
  const io = loadSafetensors(fixturePath('models', 'llama-lm', 'io.safetensors'));
  const peft = await llamaPeft({ r: 4, loraAlpha: 8, targetModules: ['q_proj', 'down_proj'], initLoraWeights: 'pissa_niter_2' });
  // transformers' logits of the unchanged base model: residual + s·B0·A0 = W.
  close(logits(peft, io), io.get('logits')!, 'logits at init');
  const original = new Map((await baseModel('llama-lm')).namedParameters());
  const params = new Map(peft.namedParameters());
  const state = peft.getAdapterStateDict();
  for (const [aKey, bKey] of factorPairs(state)) {
    const layer = aKey.slice('base_model.model.'.length, -'.lora_A.weight'.length);
    const residual = params.get(`base_model.model.${layer}.base_layer.weight`)!.toArray();
    const rebuilt = noGrad(() => matmul(state.get(bKey)!, state.get(aKey)!)).toArray().map((v, i) => residual[i]! + 2 * v);
    assertClose(rebuilt, original.get(`${layer}.weight`)!.toArray(), TOL, `residual + s·B·A of ${layer}`);
  }
  const tmp = makeTempDir();
  try {
    peft.savePretrained(join(tmp.dir, 'initial'));
    perturb(peft, 3);
    peft.eval();
    const trained = logits(peft, io);
    peft.savePretrained(join(tmp.dir, 'out'), { pathInitialModelForWeightConversion: join(tmp.dir, 'initial') });
    const converted = await PeftModel.fromPretrained(await baseModel('llama-lm'), join(tmp.dir, 'out'));
    close(logits(converted, io), trained, 'converted adapter on the original base');
  } finally {
    tmp.remove();
  }
});

test('pathInitialModelForWeightConversion: bad combinations are refused before anything is written', async () => {
  const tmp = makeTempDir();
  try {
    const initialDir = join(tmp.dir, 'initial');
    const outDir = join(tmp.dir, 'out');
    const convert = (peft: PeftModel): void => peft.savePretrained(outDir, { pathInitialModelForWeightConversion: initialDir });

    const pissa = await llamaPeft({ r: 4, targetModules: ['q_proj', 'v_proj'], initLoraWeights: 'pissa' });
    assert.throws(() => convert(pissa), (e: unknown) => e instanceof AdapterError && /initial.*has no adapter_model\.safetensors or adapter_model\.bin.*right after/.test(e.message));
    assert.equal(existsSync(outDir), false);

    // An initial adapter of other targets or another rank.
    (await llamaPeft({ r: 4, targetModules: ['q_proj'], initLoraWeights: 'pissa' })).savePretrained(initialDir);
    const initialConfig = readFileSync(join(initialDir, 'adapter_config.json'), 'utf8');
    assert.throws(() => convert(pissa), (e: unknown) => e instanceof AdapterWeightsError && e.key === 'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight');
    const rank2 = await llamaPeft({ r: 2, targetModules: ['q_proj'], initLoraWeights: 'pissa' });
    assert.throws(() => convert(rank2), (e: unknown) => e instanceof AdapterWeightsError && /size mismatch.*q_proj\.lora_A\.default\.weight.*\[4, 32\] vs model \[2, 32\]/.test(e.message));

    const rslora = await llamaPeft({ r: 4, targetModules: ['q_proj'], initLoraWeights: 'pissa', useRslora: true, rankPattern: { q_proj: 2 } });
    assert.throws(() => convert(rslora), (e: unknown) => e instanceof ConfigError && e.key === 'use_rslora' && /rank_pattern or alpha_pattern/.test(e.message));
    const base = await baseModel('llama-lm');
    const ia3 = captureWarnings(() => getPeftModel(base, new IA3Config({ taskType: 'CAUSAL_LM' }))).result;
    assert.throws(() => convert(ia3), (e: unknown) => e instanceof UnsupportedError && /only supported for LoRA, not IA3/.test(e.message));
    const bias = await llamaPeft({ r: 4, targetModules: ['q_proj'], loraBias: true });
    assert.throws(() => convert(bias), (e: unknown) => e instanceof UnsupportedError && /lora_bias cannot be converted/.test(e.message));

    assert.equal(existsSync(outDir), false, 'nothing saved');
    assert.equal(readFileSync(join(initialDir, 'adapter_config.json'), 'utf8'), initialConfig, 'the initial config is untouched');
  } finally {
    tmp.remove();
  }
});

test('pathInitialModelForWeightConversion: warns for inits that need no conversion, and names the entries it leaves out as PEFT does', async () => {
  const tmp = makeTempDir();
  try {
    const initialDir = join(tmp.dir, 'initial');
    const plain = await llamaPeft({ r: 4, targetModules: ['q_proj'], initLoraWeights: false, modulesToSave: ['lm_head'] });
    plain.savePretrained(initialDir);
    const { warnings } = captureWarnings(() => plain.savePretrained(join(tmp.dir, 'out'), { pathInitialModelForWeightConversion: initialDir }));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /init_lora_weights=false: path_initial_model_for_weight_conversion only works for converting a PiSSA\/CorDA\/OLoRA\/LoRA-GA adapter/);
    assert.match(warnings[1]!, /holds only lora_A and lora_B.*left out: 'base_model\.model\.lm_head\.weight'/);
    const saved = loadSafetensors(join(tmp.dir, 'out', 'adapter_model.safetensors'));
    assert.ok([...saved.keys()].every((k) => /\.lora_[AB]\.weight$/.test(k)));
    assert.deepEqual([...saved.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.shape], [8, 32]);
  } finally {
    tmp.remove();
  }
});
