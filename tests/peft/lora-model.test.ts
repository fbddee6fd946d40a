// LoraModel against the real PEFT on the fixture network: module tree and parameter names, trainability and
// counts, resolved targets, outputs, gradients, disabling, merging and unloading (tools/fixtures/peft_lora_layers.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mul, noGrad, type Tensor } from '../../src/engine/index.js';
import { Module } from '../../src/nn/module.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraLinear } from '../../src/peft/tuners/lora/layer.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
import type { Dropout } from '../../src/nn/dropout.js';
import { assertTensorClose } from '../helpers/assert-close.js';
import { assertOutputs, fx, ids, loadAdapterState, loss, type ModelCase, Net } from '../helpers/lora-net.js';
import { captureWarnings } from '../helpers/peft.js';

const TOL = { atol: 1e-4, rtol: 1e-4 };

function build(c: ModelCase): LoraModel<Net> {
  const { result } = captureWarnings(() => new LoraModel(new Net(), LoraConfig.fromJSON(c.config)));
  loadAdapterState(result.model, c.state);
  result.eval();
  return result;
}

/** PEFT's run replaced each lora_dropout by x ↦ 0.5·x to make DoRA's dropout branch deterministic. */
class HalfScale extends Module {
  forward(x: Tensor): Tensor {
    return mul(x, 0.5);
  }
}

function forward(lm: LoraModel<Net>): { logits: Tensor; cls: Tensor } {
  return noGrad(() => lm.forward(ids()));
}

for (const c of fx.cases.filter((x) => x.parameters !== undefined)) {
  test(`${c.name}: module tree, parameter names, trainability and counts match PEFT`, () => {
    const lm = build(c);
    const net = lm.model;
    assert.deepEqual([...net.namedModules()].map(([n]) => n).slice(1), c.modules);
    assert.deepEqual(net.namedParameters().map(([n, t]) => [n, [...t.shape], t.requiresGrad]), c.parameters);
    assert.deepEqual(net.namedBuffers().map(([n]) => n), c.buffers);
    assert.deepEqual([...net.stateDict().keys()], c.state_dict_keys);
    const { trainable, all } = lm.getNbTrainableParameters();
    assert.deepEqual([trainable, all], c.counts);
  });

  test(`${c.name}: the config records the resolved targets and fan_in_fan_out as PEFT's does`, () => {
    const lm = build(c);
    const config = lm.peftConfig.get('default')!;
    const tm = config.targetModules;
    assert.deepEqual(tm instanceof Set ? [...tm].sort() : tm, c.target_modules);
    assert.equal(config.fanInFanOut, c.fan_in_fan_out);
  });

  test(`${c.name}: outputs, disabled outputs and gradients match PEFT`, () => {
    const lm = build(c);
    assertOutputs(forward(lm), c.outputs, c.name);
    const { result: disabled } = captureWarnings(() => lm.withDisabledAdapters(() => forward(lm)));
    assertOutputs(disabled, fx.base.outputs, `${c.name} disabled`);

    loss(lm.forward(ids())).backward();
    const grads = new Map(lm.model.namedParameters());
    for (const [name, expected] of Object.entries(c.grads)) {
      const t = grads.get(name)!;
      assert.ok(t.grad !== null, `${name} got no gradient`);
      assertTensorClose(t.grad, expected, TOL, `grad ${name}`);
    }
    for (const [name, t] of grads) {
      if (!(name in c.grads)) assert.equal(t.grad, null, `${name} is frozen and must get no gradient`);
    }
  });
}

for (const c of fx.cases.filter((x) => x.merge !== undefined)) {
  test(`${c.name}: merged weights and outputs match PEFT; unmerge restores the base`, () => {
    const lm = build(c);
    const merge = c.merge!;
    const before = new Map(lm.model.namedParameters().map(([n, t]) => [n, t.toArray()]));
    captureWarnings(() => lm.mergeAdapter());
    const params = new Map(lm.model.namedParameters());
    for (const [name, expected] of Object.entries(merge.weights)) assertTensorClose(params.get(name)!, expected, TOL, `merged ${name}`);
    assertOutputs(forward(lm), merge.outputs, `${c.name} merged`);
    captureWarnings(() => lm.unmergeAdapter());
    for (const name of Object.keys(merge.weights)) {
      assertTensorClose(params.get(name)!, { shape: [...params.get(name)!.shape], data: [...before.get(name)!] }, { atol: 1e-5, rtol: 0 }, `unmerged ${name}`);
    }
    assertOutputs(forward(lm), c.outputs, `${c.name} after unmerge`);
  });

  test(`${c.name}: mergeAndUnload gives PEFT's merged base model`, () => {
    const lm = build(c);
    const { result: net } = captureWarnings(() => lm.mergeAndUnload({ safeMerge: true }));
    assert.deepEqual(net.namedParameters().map(([n]) => n), c.merge!.unload_parameters);
    assertOutputs(noGrad(() => net.forward(ids())), c.merge!.unload_outputs, `${c.name} unloaded`);
  });
}

test('unload puts the original layers back without merging', () => {
  const c = fx.cases[0]!;
  const lm = build(c);
  const originals = new Map([...new Net().namedModules()].map(([n, m]) => [n, m.typeName]));
  const net = lm.unload();
  assert.deepEqual(new Map([...net.namedModules()].map(([n, m]) => [n, m.typeName])), originals);
  assertOutputs(noGrad(() => net.forward(ids())), fx.base.outputs, 'unloaded');
});

test('DoRA in training with a non-identity lora_dropout recomputes the base output as PEFT does', () => {
  const c = fx.cases.find((x) => x.name === 'dora_train_dropout')!;
  const { result: lm } = captureWarnings(() => new LoraModel(new Net(), LoraConfig.fromJSON(c.config)));
  loadAdapterState(lm.model, c.state);
  for (const [, m] of lm.model.namedModules()) if (m instanceof LoraLinear) m.loraDropout.set('default', new HalfScale() as Dropout);
  lm.train();
  const out = lm.forward(ids());
  assertOutputs(out, c.outputs, 'dora train');
  loss(out).backward();
  const params = new Map(lm.model.namedParameters());
  for (const [name, expected] of Object.entries(c.grads)) assertTensorClose(params.get(name)!.grad!, expected, TOL, `grad ${name}`);
});

test('base weights get no gradient: the frozen weight-gradient GEMM is skipped', () => {
  const c = fx.cases[0]!;
  const lm = build(c);
  lm.train();
  loss(lm.forward(ids())).backward();
  for (const [name, t] of lm.model.namedParameters()) {
    if (name.includes('base_layer')) assert.equal(t.grad, null, name);
  }
});
