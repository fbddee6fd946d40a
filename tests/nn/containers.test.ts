import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zeros } from '../../src/engine/index.js';
import { BufferDict, ModuleDict, ParameterDict } from '../../src/nn/containers.js';
import { Identity } from '../../src/nn/identity.js';
import { Linear } from '../../src/nn/linear.js';
import { Module } from '../../src/nn/module.js';

class Holder extends Module {
  constructor() {
    super();
    this.registerModule('lora_A', new ModuleDict<Linear>());
    this.registerModule('emb', new ParameterDict());
    this.registerModule('orig', new BufferDict(false));
  }
}

test('containers put their keys into parameter and state-dict names', () => {
  const h = new Holder();
  h.child<ModuleDict<Linear>>('lora_A').set('default', new Linear(3, 2, { bias: false }));
  h.child<ParameterDict>('emb').set('default', zeros([2, 5]));
  h.child<BufferDict>('orig').set('default', zeros([1]));
  assert.deepEqual([...h.stateDict().keys()], ['lora_A.default.weight', 'emb.default']);
  assert.deepEqual(h.namedBuffers().map(([n]) => n), ['orig.default']);
  assert.equal(h.child<ParameterDict>('emb').get('default')!.requiresGrad, true);
  assert.deepEqual([...h.namedModules()].map(([n]) => n), ['', 'lora_A', 'lora_A.default', 'emb', 'orig']);
});

test('entries can be looked up, listed and deleted', () => {
  const d = new ModuleDict<Module>();
  d.set('a', new Identity());
  d.set('b', new Identity());
  assert.deepEqual(d.keys(), ['a', 'b']);
  assert.equal(d.size, 2);
  d.delete('a');
  assert.equal(d.has('a'), false);
  assert.equal(d.get('a'), undefined);
  const p = new ParameterDict();
  p.set('x', zeros([1]));
  p.delete('x');
  assert.deepEqual(p.keys(), []);
  const b = new BufferDict();
  b.set('y', zeros([1]));
  assert.equal(b.has('y'), true);
  b.delete('y');
  assert.equal(b.get('y'), undefined);
});

test('clone is a deep copy: own memory, same values and requiresGrad, tied tensors stay tied', () => {
  class Tied extends Module {
    constructor() {
      super();
      this.registerModule('a', new Linear(2, 2));
      this.registerModule('b', new Linear(2, 2));
      this.child<Linear>('b').setParameter('weight', this.child<Linear>('a').weight);
      this.child<Linear>('a').bias!.requiresGrad = false;
    }
  }
  const m = new Tied();
  const c = m.clone();
  assert.ok(c instanceof Tied);
  const [wa, wb] = [c.child<Linear>('a').weight, c.child<Linear>('b').weight];
  assert.equal(wa, wb, 'tied weights stay one tensor');
  assert.notEqual(wa, m.child<Linear>('a').weight);
  assert.deepEqual(wa.toArray(), m.child<Linear>('a').weight.toArray());
  assert.equal(c.child<Linear>('a').bias!.requiresGrad, false);
  wa.data()[0] = 42;
  assert.notEqual(m.child<Linear>('a').weight.toArray()[0], 42);
  assert.deepEqual(c.namedParameters().map(([n]) => n), m.namedParameters().map(([n]) => n));
});
