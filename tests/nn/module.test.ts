import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromArray, zeros } from '../../src/engine/index.js';
import { Module, ModuleList, StateDictError } from '../../src/nn/module.js';
import { Conv1D, Linear } from '../../src/nn/linear.js';

class Block extends Module {
  constructor() {
    super();
    this.registerModule('q_proj', new Linear(4, 3));
    this.registerModule('c_attn', new Conv1D(6, 4));
  }
}

class Net extends Module {
  constructor() {
    super();
    this.registerModule('layers', new ModuleList([new Block(), new Block()]));
    this.registerModule('head', new Linear(3, 2, { bias: false }));
  }
}

test('named modules and parameters use HF dotted names in registration order', () => {
  const net = new Net();
  assert.deepEqual(
    [...net.namedModules()].map(([n]) => n),
    ['', 'layers', 'layers.0', 'layers.0.q_proj', 'layers.0.c_attn', 'layers.1', 'layers.1.q_proj', 'layers.1.c_attn', 'head'],
  );
  assert.deepEqual(
    net.namedParameters().map(([n, t]) => `${n}:${t.shape.join('x')}`),
    [
      'layers.0.q_proj.weight:3x4', 'layers.0.q_proj.bias:3', 'layers.0.c_attn.weight:4x6', 'layers.0.c_attn.bias:6',
      'layers.1.q_proj.weight:3x4', 'layers.1.q_proj.bias:3', 'layers.1.c_attn.weight:4x6', 'layers.1.c_attn.bias:6',
      'head.weight:2x3',
    ],
  );
  assert.equal(net.numParameters(), 2 * (12 + 3 + 24 + 6) + 6);
});

test('tied parameters appear once in parameters() and under both names in stateDict()', () => {
  const net = new Net();
  const shared = net.getSubmodule('layers.0.q_proj').parameter('weight')!;
  net.getSubmodule('layers.1.q_proj').setParameter('weight', shared);
  assert.equal(net.namedParameters().length, 8);
  const sd = net.stateDict();
  assert.equal(sd.get('layers.1.q_proj.weight'), sd.get('layers.0.q_proj.weight'));
  assert.equal(sd.size, 9);
});

test('loadStateDict copies values and reports missing/unexpected keys', () => {
  const net = new Net();
  const sd = new Map([['head.weight', fromArray([1, 2, 3, 4, 5, 6], [2, 3])]]);
  assert.throws(() => net.loadStateDict(sd), (e: Error) => e instanceof StateDictError && /missing keys: layers\.0\.q_proj\.weight/.test(e.message));
  const res = net.loadStateDict(new Map([...sd, ['extra.bias', zeros([1])]]), { strict: false });
  assert.deepEqual(res.unexpectedKeys, ['extra.bias']);
  assert.equal(res.missingKeys.length, 8);
  assert.deepEqual([...net.getSubmodule('head').parameter('weight')!.toArray()], [1, 2, 3, 4, 5, 6]);
});

test('loadStateDict names the key and both shapes on a size mismatch', () => {
  const net = new Net();
  const sd = new Map([['layers.1.c_attn.weight', zeros([6, 4])]]);
  assert.throws(
    () => net.loadStateDict(sd, { strict: false }),
    (e: Error) => e instanceof StateDictError && e.message.includes('layers.1.c_attn.weight: checkpoint [6, 4] vs model [4, 6]'),
  );
});

test('setSubmodule replaces a layer and forward code sees the new one', () => {
  const net = new Net();
  const replacement = new Linear(4, 3, { bias: false });
  net.setSubmodule('layers.1.q_proj', replacement);
  assert.equal(net.getSubmodule('layers.1.q_proj'), replacement);
  assert.equal((net.getSubmodule('layers') as ModuleList<Block>).at(1).child('q_proj'), replacement);
  assert.throws(() => net.setSubmodule('layers.1.nope', replacement), /no submodule 'layers.1.nope'/);
  assert.throws(() => net.getSubmodule('layers.7'), /'7' not found/);
});

test('freezing, train/eval', () => {
  const net = new Net();
  net.requiresGrad(false);
  net.getSubmodule('head').requiresGrad(true);
  assert.equal(net.numParameters({ trainableOnly: true }), 6);
  net.eval();
  assert.ok([...net.namedModules()].every(([, m]) => !m.training));
  net.train();
  assert.ok(net.getSubmodule('layers.0.c_attn').training);
});

test('Linear and Conv1D compute x·Wᵀ+b and x·W+b', () => {
  const lin = new Linear(2, 2);
  lin.loadStateDict(new Map([['weight', fromArray([[1, 2], [3, 4]])], ['bias', fromArray([10, 20])]]));
  assert.deepEqual([...lin.forward(fromArray([[1, 1]])).toArray()], [13, 27]);
  const conv = new Conv1D(2, 2);
  conv.loadStateDict(new Map([['weight', fromArray([[1, 2], [3, 4]])], ['bias', fromArray([10, 20])]]));
  assert.deepEqual([...conv.forward(fromArray([[1, 1]])).toArray()], [14, 26]);
});
