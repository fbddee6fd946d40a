import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, scope, Storage, type Tensor } from '../../src/engine/index.js';
import { Conv1D, Linear, Module } from '../../src/nn/index.js';
import { AutoModelForCausalLM, AutoModelForMaskedLM, AutoModelForSequenceClassification } from '../../src/models/index.js';
import { autoClassFor, fixtureInputs, loadModelIO, modelFixtureCases, modelFixtureDir } from '../helpers/model-fixtures.js';

const CASES = [
  ['gpt2-lm', AutoModelForCausalLM],
  ['bert-seqcls', AutoModelForSequenceClassification],
  ['roberta-mlm', AutoModelForMaskedLM],
  ['distilbert-seqcls', AutoModelForSequenceClassification],
] as const;

for (const [name, auto] of CASES) {
  test(`${name}: a training step inside scope() leaves only the gradients`, async () => {
    const model = await auto.fromPretrained(modelFixtureDir(name));
    const io = loadModelIO(name);
    try {
      model.train();
      const before = Storage.liveCount;
      for (let step = 0; step < 3; step++) scope(() => model.forward(fixtureInputs(io)).loss!.backward());
      const grads = model.parameters().filter((p) => p.grad !== null).length;
      assert.ok(grads > 0);
      assert.equal(Storage.liveCount, before + grads);
      for (const p of model.parameters()) p.zeroGrad();
      assert.equal(Storage.liveCount, before);
    } finally {
      model.dispose();
      for (const t of io.values()) t.dispose();
    }
  });
}

for (const [name, auto] of CASES) {
  test(`${name}: dropout acts in training mode only and follows the seed`, async () => {
    const model = await auto.fromPretrained(modelFixtureDir(name));
    const io = loadModelIO(name);
    try {
      const logits = () => noGrad(() => model.forward(fixtureInputs(io)).logits!.toArray());
      const evalLogits = logits();
      assert.deepEqual(logits(), evalLogits);
      model.train();
      manualSeed(7);
      const first = logits();
      manualSeed(7);
      assert.deepEqual(logits(), first);
      assert.notDeepEqual(first, evalLogits);
    } finally {
      model.dispose();
      for (const t of io.values()) t.dispose();
    }
  });
}

/** Stands in for a swapped-in layer (as PEFT's LoRA wrappers do) and counts its calls. */
class CountingLayer extends Module {
  calls = 0;

  constructor(private readonly inner: Linear | Conv1D) {
    super();
    this.registerModule('base_layer', inner);
  }

  forward(x: Tensor): Tensor {
    this.calls++;
    return this.inner.forward(x);
  }
}

for (const name of modelFixtureCases('gpt2', 'bert', 'roberta', 'distilbert')) {
  test(`${name}: every Linear and Conv1D is looked up when called, so a swapped-in layer runs`, async () => {
    const loaded = await autoClassFor(name).fromPretrained(modelFixtureDir(name));
    const io = loadModelIO(name);
    try {
      const output = () =>
        noGrad(() =>
          scope(() => {
            const out = loaded.forward(fixtureInputs(io));
            return (out.loss ?? out.lastHiddenState!).toArray();
          }),
        );
      const before = output();
      const swapped = new Map<string, CountingLayer>();
      for (const [path, m] of [...loaded.namedModules()]) {
        if (m instanceof Linear || m instanceof Conv1D) swapped.set(path, new CountingLayer(m));
      }
      for (const [path, layer] of swapped) loaded.setSubmodule(path, layer);
      const after = output();
      assert.deepEqual(after, before);
      for (const [path, layer] of swapped) assert.equal(layer.calls, 1, path);
    } finally {
      loaded.dispose();
      for (const t of io.values()) t.dispose();
    }
  });
}
