// The adapter cases of tests/fixtures/peft/adapters (made by PEFT with tools/fixtures/peft_adapters.py): their
// base models and inputs, and the outputs a PeftModel gives on them under the names of expected.safetensors.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/safetensors-sharded.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { noGrad } from '../../src/engine/autograd.js';
import {
  AutoModelForCausalLM,
  AutoModelForQuestionAnswering,
  AutoModelForSeq2SeqLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  supportedModelTypes,
  type AutoModelClass,
} from '../../src/models/auto.js';
import '../../src/models/index.js';
import type { ModelInputs, ModelOutput } from '../../src/models/outputs.js';
import type { PreTrainedModel } from '../../src/models/pretrained.js';
import type { PeftModel } from '../../src/peft/peft-model.js';
import { readJsonObject } from '../../src/io/json-file.js';
import { fixturePath, repoRoot } from './paths.js';

export interface AdapterCase {
  name: string;
  dir: string;
  /** adapter_config.json of the default adapter. */
  config: Record<string, unknown>;
  /** Further adapters, each in the subfolder of its name. */
  extraAdapters: string[];
  /** expected.safetensors: inputs and PEFT's outputs. */
  expectedPath: string;
}

/** Cases with outputs (the -keys cases only have state-dict.json; -bin is a copy in adapter_model.bin). */
export function adapterCases(): AdapterCase[] {
  const root = fixturePath('peft', 'adapters');
  return readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'expected.safetensors')))
    .sort()
    .map((name) => {
      const dir = join(root, name);
      return {
        name,
        dir,
        config: readJsonObject(join(dir, 'adapter_config.json')),
        extraAdapters: readdirSync(dir).filter((d) => existsSync(join(dir, d, 'adapter_config.json'))).sort(),
        expectedPath: join(dir, 'expected.safetensors'),
      };
    });
}

const AUTO: Record<string, AutoModelClass> = {
  CAUSAL_LM: AutoModelForCausalLM,
  SEQ_CLS: AutoModelForSequenceClassification,
  TOKEN_CLS: AutoModelForTokenClassification,
  QUESTION_ANS: AutoModelForQuestionAnswering,
  SEQ_2_SEQ_LM: AutoModelForSeq2SeqLM,
};

/** Why the case's base model cannot be built here (its family or head is not implemented), or null. */
export function unsupportedReason(c: AdapterCase): string | null {
  const auto = AUTO[c.config['task_type'] as string];
  const modelType = readJsonObject(join(repoRoot, c.config['base_model_name_or_path'] as string, 'config.json'))['model_type'] as string;
  if (auto === undefined) return `no Auto class for task ${String(c.config['task_type'])}`;
  return supportedModelTypes(auto.task).includes(modelType) ? null : `${auto.name} does not support model_type ${modelType}`;
}

/** The case's base model, loaded from the repo-relative folder its adapter_config.json names (recorded as its nameOrPath). */
export async function loadBaseModel(c: AdapterCase): Promise<PreTrainedModel> {
  const path = c.config['base_model_name_or_path'] as string;
  const model = await AUTO[c.config['task_type'] as string]!.fromPretrained(join(repoRoot, path));
  model.nameOrPath = path;
  return model;
}

const INPUTS: [string, keyof ModelInputs][] = [
  ['input_ids', 'inputIds'],
  ['attention_mask', 'attentionMask'],
  ['token_type_ids', 'tokenTypeIds'],
  ['decoder_input_ids', 'decoderInputIds'],
];

/** The model inputs among tensors named as in Python (input_ids, attention_mask, token_type_ids, decoder_input_ids). */
export function modelInputsOf(tensors: ReadonlyMap<string, Tensor>): ModelInputs {
  const inputs: ModelInputs = {};
  for (const [file, key] of INPUTS) {
    const t = tensors.get(file);
    if (t !== undefined) (inputs as Record<string, Tensor>)[key] = t;
  }
  return inputs;
}

/** The inputs recorded in a case's expected.safetensors, and everything else in it by name. */
export function loadExpected(c: AdapterCase): { inputs: ModelInputs; tensors: Map<string, Tensor> } {
  const tensors = loadSafetensors(c.expectedPath);
  return { inputs: modelInputsOf(tensors), tensors };
}

function outputsOf(out: ModelOutput, prefix: string): [string, Tensor][] {
  if (out.startLogits !== undefined) return [[`${prefix}.start_logits`, out.startLogits], [`${prefix}.end_logits`, out.endLogits!]];
  return [[`${prefix}.logits`, out.logits!]];
}

/**
 * The outputs PEFT's fixture script records, in its order: active (default adapter), `<name>.active` per
 * further adapter, `mixed` for a mixed batch, `disabled`, `merged` (merged, then unmerged again; not for methods
 * that do not merge).
 */
export function collectOutputs(peft: PeftModel, inputs: ModelInputs, extraAdapters: readonly string[], mixed?: string[], options: { merges?: boolean } = {}): Map<string, Tensor> {
  return noGrad(() => {
    const out = new Map<string, Tensor>(outputsOf(peft.forward(inputs), 'active'));
    for (const name of extraAdapters) {
      peft.setAdapter(name);
      for (const [k, t] of outputsOf(peft.forward(inputs), `${name}.active`)) out.set(k, t);
    }
    peft.setAdapter('default');
    if (mixed !== undefined) for (const [k, t] of outputsOf(peft.forward({ ...inputs, adapterNames: mixed }), 'mixed')) out.set(k, t);
    for (const [k, t] of outputsOf(peft.disableAdapter(() => peft.forward(inputs)), 'disabled')) out.set(k, t);
    if (options.merges === false) return out;
    peft.mergeAdapter();
    for (const [k, t] of outputsOf(peft.forward(inputs), 'merged')) out.set(k, t);
    peft.unmergeAdapter();
    return out;
  });
}
