import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ones, zeros } from '../../src/engine/index.js';
import { Embedding, LayerNorm, Linear, Module, ModuleList, RMSNorm } from '../../src/nn/index.js';
import { createOptimizer, getDecayParameterNames, TrainerError } from '../../src/train/index.js';
import { fixturePath } from '../helpers/paths.js';

const fixture = JSON.parse(readFileSync(fixturePath('train', 'decay.json'), 'utf8')) as { parameters: string[]; decay: string[]; no_decay: string[] };

// The module tree of tools/fixtures/train_decay.py (torch's RMSNorm is not a LayerNorm there either).
class Attention extends Module {
  constructor() {
    super();
    this.registerModule('q_proj', new Linear(4, 4));
    this.registerModule('q_norm', new RMSNorm(4));
  }
}

class Block extends Module {
  constructor() {
    super();
    this.registerModule('self_attn', new Attention());
    this.registerModule('input_layernorm', new RMSNorm(4));
    this.registerModule('post_attention_layernorm', new RMSNorm(4));
    this.registerModule('ln_2', new LayerNorm(4));
    this.registerModule('LayerNorm', new LayerNorm(4));
    this.registerModule('ffn_ln', new RMSNorm(4));
    this.registerModule('normalizer', new Linear(4, 4));
    this.registerModule('norm_out', new RMSNorm(4));
  }
}

class Net extends Module {
  constructor() {
    super();
    this.registerParameter('scale', ones([4]));
    this.registerParameter('pos_bias', zeros([4]));
    this.registerModule('embed_tokens', new Embedding(8, 4));
    this.registerModule('layers', new ModuleList([new Block(), new Block()]));
    this.registerModule('norm', new RMSNorm(4));
    this.registerModule('lm_head', new Linear(4, 8, { bias: false }));
  }
}

test('decay parameter names match transformers\' Trainer.get_decay_parameter_names', () => {
  const net = new Net();
  assert.deepEqual(net.namedParameters().map(([n]) => n), fixture.parameters, 'the rebuilt tree has the fixture\'s parameters');
  assert.deepEqual(getDecayParameterNames(net), fixture.decay);
});

test('createOptimizer: decayed and undecayed groups of the trainable parameters, in parameter order', () => {
  const net = new Net();
  net.getSubmodule('embed_tokens').requiresGrad(false);
  net.getSubmodule('layers.1.ln_2').requiresGrad(false);
  const opt = createOptimizer(net, { learningRate: 0.1, weightDecay: 0.05, adamBeta1: 0.8, adamBeta2: 0.99, adamEpsilon: 1e-6 });
  const byTensor = new Map(net.namedParameters().map(([n, p]) => [p, n]));
  const [decayed, plain] = opt.paramGroups.map((g) => g.params.map((p) => byTensor.get(p)));
  assert.deepEqual(decayed, fixture.decay.filter((n) => n !== 'embed_tokens.weight'));
  assert.deepEqual(plain, fixture.no_decay.filter((n) => !n.startsWith('layers.1.ln_2.')));
  assert.deepEqual(opt.paramGroups.map((g) => [g.weightDecay, g.lr, [...g.betas], g.eps]), [[0.05, 0.1, [0.8, 0.99], 1e-6], [0, 0.1, [0.8, 0.99], 1e-6]]);
});

test('createOptimizer refuses a model without trainable parameters', () => {
  const net = new Net().requiresGrad(false);
  assert.throws(() => createOptimizer(net, { learningRate: 1, weightDecay: 0, adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8 }), (e: unknown) => e instanceof TrainerError && /Net has no trainable parameters/.test((e as Error).message));
});
