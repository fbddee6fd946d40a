// The small network of tools/fixtures/peft_lora_layers.py, named like a transformers model (Linear, GPT-2 Conv1D
// and Embedding children), with the fixture's weights; helpers to copy PEFT's adapter values in and compare.
import assert from 'node:assert/strict';
import { add, fromArray, mul, sum, tanh, type Tensor } from '../../src/engine/index.js';
import { Embedding } from '../../src/nn/embedding.js';
import { Conv1D, Linear } from '../../src/nn/linear.js';
import { Module, ModuleList } from '../../src/nn/module.js';
import { assertTensorClose } from './assert-close.js';
import { loadPeftFixture } from './peft.js';

export interface FixtureTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: number[];
}

export interface Outputs {
  logits: FixtureTensor;
  cls: FixtureTensor;
}

export interface MergeRecord {
  weights: Record<string, FixtureTensor>;
  outputs: Outputs;
  unload_outputs: Outputs;
  unload_parameters: string[];
}

export interface ModelCase {
  name: string;
  config: Record<string, unknown>;
  modules?: string[];
  parameters?: [string, number[], boolean][];
  buffers?: string[];
  state_dict_keys?: string[];
  target_modules?: string | string[];
  fan_in_fan_out?: boolean;
  counts?: [number, number];
  state: Record<string, FixtureTensor>;
  outputs: Outputs;
  grads: Record<string, FixtureTensor>;
  merge?: MergeRecord;
  /** DoRA magnitudes as get_peft_model computed them, before the fixture moved them. */
  initial_magnitudes?: Record<string, FixtureTensor>;
}

export interface WeightedCase {
  name: string;
  combination: 'linear' | 'cat' | 'svd';
  svd_rank: number | null;
  outputs: Outputs;
  config: { r: number; lora_alpha: number; target_modules: string[] };
  shapes: Record<string, number[]>;
  mix_state?: Record<string, FixtureTensor>;
}

export interface LoraFixture {
  base: { weights: Record<string, FixtureTensor>; ids: FixtureTensor; g_logits: FixtureTensor; g_cls: FixtureTensor; outputs: Outputs };
  cases: ModelCase[];
  multi: {
    config: Record<string, unknown>;
    other_config: Record<string, unknown>;
    weights: number[];
    parameters_after_add: [string, number[], boolean][];
    state: Record<string, FixtureTensor>;
    default_outputs: Outputs;
    mixed_adapter_names: string[];
    mixed_outputs: Outputs;
    other_outputs: Outputs;
    parameters_after_set: [string, boolean][];
    both_outputs: Outputs;
    both_merged_outputs: Outputs;
    weighted: WeightedCase[];
    active_after_delete: string[];
    parameters_after_delete: [string, boolean][];
    outputs_after_delete: Outputs;
  };
  linear_weighted: WeightedCase & { other_config: Record<string, unknown>; weights: number[]; state: Record<string, FixtureTensor> };
  init: {
    init: string;
    config: Record<string, unknown>;
    residual?: Record<string, FixtureTensor>;
    deltas?: Record<string, FixtureTensor>;
    outputs?: Outputs;
    magnitudes?: Record<string, FixtureTensor>;
  }[];
}

export const fx = loadPeftFixture<LoraFixture>('lora-layers.json');

export const D = 8;
export const F = 12;
export const V = 16;
export const C = 3;

type Layer1 = Module & { forward(x: Tensor): Tensor };

function call(parent: Module, name: string, x: Tensor): Tensor {
  return parent.child<Layer1>(name).forward(x);
}

class Attn extends Module {
  constructor() {
    super();
    this.registerModule('q_proj', new Linear(D, D));
    this.registerModule('v_proj', new Linear(D, D, { bias: false }));
  }
}

class Mlp extends Module {
  constructor() {
    super();
    this.registerModule('c_fc', new Conv1D(F, D));
    this.registerModule('c_proj', new Conv1D(D, F));
  }
}

class Block extends Module {
  constructor() {
    super();
    this.registerModule('self_attn', new Attn());
    this.registerModule('mlp', new Mlp());
  }

  forward(h: Tensor): Tensor {
    const attn = this.child('self_attn');
    const mlp = this.child('mlp');
    const a = add(h, tanh(call(attn, 'v_proj', call(attn, 'q_proj', h))));
    return add(a, call(mlp, 'c_proj', tanh(call(mlp, 'c_fc', a))));
  }
}

class Inner extends Module {
  constructor() {
    super();
    this.registerModule('embed_tokens', new Embedding(V, D));
    this.registerModule('layers', new ModuleList([new Block(), new Block()]));
  }
}

export class Net extends Module {
  constructor() {
    super();
    this.registerModule('model', new Inner());
    this.registerModule('lm_head', new Linear(D, V, { bias: false }));
    this.registerModule('classifier', new Linear(D, C));
    const sd = new Map(Object.entries(fx.base.weights).map(([k, t]) => [k, fromArray(t.data, t.shape)]));
    this.loadStateDict(sd);
  }

  forward(ids: Tensor): { logits: Tensor; cls: Tensor } {
    const inner = this.child('model');
    let h = call(inner, 'embed_tokens', ids);
    for (const block of inner.child<ModuleList<Block>>('layers')) h = block.forward(h);
    return { logits: call(this, 'lm_head', h), cls: call(this, 'classifier', h) };
  }
}

export function ids(): Tensor {
  return fromArray(Int32Array.from(fx.base.ids.data), fx.base.ids.shape);
}

/** Copies PEFT's adapter values (parameters and buffers, by name) into the model; every name must exist here. */
export function loadAdapterState(model: Module, state: Record<string, FixtureTensor>): void {
  const own = new Map<string, Tensor>([...model.namedParameters({ removeDuplicate: false }), ...model.namedBuffers()]);
  for (const [name, t] of Object.entries(state)) {
    const dst = own.get(name);
    assert.ok(dst !== undefined, `PEFT has '${name}', the model does not`);
    assert.deepEqual([...dst.shape], t.shape, `${name}: shape`);
    dst.data().set(t.data);
  }
}

export function assertOutputs(out: { logits: Tensor; cls: Tensor }, expected: Outputs, label: string, tol = 1e-4): void {
  assertTensorClose(out.logits, expected.logits, { atol: tol, rtol: tol }, `${label} logits`);
  assertTensorClose(out.cls, expected.cls, { atol: tol, rtol: tol }, `${label} cls`);
}

/** The fixture's loss: Σ logits·G_logits + Σ cls·G_cls. */
export function loss(out: { logits: Tensor; cls: Tensor }): Tensor {
  const gl = fromArray(fx.base.g_logits.data, fx.base.g_logits.shape);
  const gc = fromArray(fx.base.g_cls.data, fx.base.g_cls.shape);
  return add(sum(mul(out.logits, gl)), sum(mul(out.cls, gc)));
}
