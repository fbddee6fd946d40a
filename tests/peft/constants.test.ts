import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONFIG_NAME,
  DUMMY_TARGET_MODULES,
  INCLUDE_LINEAR_LAYERS_SHORTHAND,
  MIN_TARGET_MODULES_FOR_OPTIMIZATION,
  SEQ_CLS_HEAD_NAMES,
  TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING,
} from '../../src/peft/utils/constants.js';
import { PeftType, TaskType } from '../../src/peft/utils/peft-types.js';
import { loadPeftFixture } from '../helpers/peft.js';

interface Fixture {
  peft_types: string[];
  task_types: string[];
  lora_target_modules_mapping: Record<string, string | string[]>;
  seq_cls_head_names: string[];
  include_linear_layers_shorthand: string;
  dummy_target_modules: string;
  min_target_modules_for_optimization: number;
  config_name: string;
}

const fx = loadPeftFixture<Fixture>('constants.json');

test('PeftType and TaskType have exactly PEFT’s values', () => {
  assert.deepEqual(Object.values(PeftType), fx.peft_types);
  assert.deepEqual(Object.values(TaskType), fx.task_types);
  for (const [k, v] of Object.entries(PeftType)) assert.equal(k, v);
});

test('default LoRA targets per model type are PEFT’s table, entry for entry', () => {
  assert.deepEqual({ ...TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING }, fx.lora_target_modules_mapping);
});

test('naming constants', () => {
  assert.deepEqual([...SEQ_CLS_HEAD_NAMES], fx.seq_cls_head_names);
  assert.equal(INCLUDE_LINEAR_LAYERS_SHORTHAND, fx.include_linear_layers_shorthand);
  assert.equal(DUMMY_TARGET_MODULES, fx.dummy_target_modules);
  assert.equal(MIN_TARGET_MODULES_FOR_OPTIMIZATION, fx.min_target_modules_for_optimization);
  assert.equal(CONFIG_NAME, fx.config_name);
});
