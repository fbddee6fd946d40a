// init_lora_weights: PiSSA and OLoRA residual weights and B·A against PEFT, DoRA magnitudes, and the distributions
// of true / false / "gaussian" / embedding inits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.js';
import { UnsupportedError } from '../../src/peft/errors.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraEmbedding, LoraLayer, LoraLinear } from '../../src/peft/tuners/lora/layer.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
import { assertTensorClose } from '../helpers/assert-close.js';
import { assertOutputs, fx, ids, loadAdapterState, Net } from '../helpers/lora-net.js';
import { captureWarnings } from '../helpers/peft.js';

const TOL = { atol: 1e-4, rtol: 1e-4 };

function layers(lm: LoraModel<Net>): Map<string, LoraLayer> {
  return new Map([...lm.model.namedModules()].filter((e): e is [string, LoraLayer] => e[1] instanceof LoraLayer));
}

for (const c of fx.init.filter((x) => x.residual !== undefined)) {
  test(`init ${c.init}: residual base weights, B·A and outputs match PEFT`, () => {
    const { result: lm } = captureWarnings(() => new LoraModel(new Net(), LoraConfig.fromJSON(c.config)));
    const params = new Map(lm.model.namedParameters());
    for (const [name, expected] of Object.entries(c.residual!)) assertTensorClose(params.get(name)!, expected, TOL, `residual ${name}`);
    const byName = layers(lm);
    for (const [name, expected] of Object.entries(c.deltas!)) assertTensorClose(byName.get(name)!.getDeltaWeight('default'), expected, TOL, `delta ${name}`);
    assertOutputs(noGrad(() => lm.forward(ids())), c.outputs!, c.init);
  });
}

test('OLoRA factors match PEFT including signs (LAPACK Householder convention)', () => {
  const c = fx.init.find((x) => x.init === 'olora')!;
  const { result: lm } = captureWarnings(() => new LoraModel(new Net(), LoraConfig.fromJSON(c.config)));
  const q = layers(lm).get('model.layers.0.self_attn.q_proj')!;
  // B = Q[:, :r] has orthonormal columns; A = R[:r] is upper triangular.
  const { A, B } = q.factors('default');
  const a = A.toArray();
  for (let i = 0; i < A.shape[0]!; i++) for (let j = 0; j < i; j++) assert.equal(a[i * A.shape[1]! + j], 0);
  const b = B.toArray();
  const [out, r] = B.shape as [number, number];
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let dot = 0;
      for (let o = 0; o < out; o++) dot += b[o * r + i]! * b[o * r + j]!;
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-5);
    }
  }
});

test('pissa_niter_<n> keeps the model output (randomized SVD, residual + B·A = W)', () => {
  const config = new LoraConfig({ r: 2, loraAlpha: 4, targetModules: ['q_proj', 'c_fc'], initLoraWeights: 'pissa_niter_4' });
  const { result: lm } = captureWarnings(() => new LoraModel(new Net(), config));
  assertOutputs(noGrad(() => lm.forward(ids())), fx.base.outputs, 'pissa_niter_4', 1e-4);
});

test('DoRA magnitudes start at the weight norms, as PEFT computes them', () => {
  const c = fx.init.find((x) => x.init === 'dora_default')!;
  const { result: lm } = captureWarnings(() => new LoraModel(new Net(), LoraConfig.fromJSON(c.config)));
  const params = new Map(lm.model.namedParameters());
  for (const [name, expected] of Object.entries(c.magnitudes!)) assertTensorClose(params.get(name)!, expected, { atol: 1e-5, rtol: 1e-5 }, name);
  // With non-zero B (init false), the magnitude is the norm of W + s·B·A: recompute it from PEFT's factors.
  const dora = fx.cases.find((x) => x.name === 'dora')!;
  const { result: lm2 } = captureWarnings(() => new LoraModel(new Net(), LoraConfig.fromJSON(dora.config)));
  loadAdapterState(lm2.model, dora.state);
  for (const layer of layers(lm2).values()) layer.initDora('default');
  const params2 = new Map(lm2.model.namedParameters());
  for (const [name, expected] of Object.entries(dora.initial_magnitudes!)) assertTensorClose(params2.get(name)!, expected, { atol: 1e-5, rtol: 1e-5 }, name);
});

function stats(values: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let v = 0;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    v += (values[i]! - mean) ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
  }
  return { mean, std: Math.sqrt(v / values.length), maxAbs };
}

test('init true: A ~ U(±1/√in) (kaiming-uniform, a=√5), B = 0; the output is the base output', () => {
  const { result: lm } = captureWarnings(() => new LoraModel(new Net(), new LoraConfig({ r: 64, targetModules: ['c_proj', 'embed_tokens'] })));
  const c = layers(lm).get('model.layers.0.mlp.c_proj')! as LoraLinear;
  const { A, B } = c.factors('default');
  const s = stats(A.toArray());
  assert.ok(s.maxAbs <= 1 / Math.sqrt(12) && s.maxAbs > 0.9 / Math.sqrt(12), `A spans ±1/√in: ${s.maxAbs}`);
  assert.ok(B.toArray().every((v) => v === 0));
  const e = layers(lm).get('model.embed_tokens')! as LoraEmbedding;
  assert.ok(e.factors('default').A.toArray().every((v) => v === 0), 'embedding A = 0');
  assert.ok(Math.abs(stats(e.factors('default').B.toArray()).std - 1) < 0.15, 'embedding B ~ N(0, 1)');
  assertOutputs(noGrad(() => lm.forward(ids())), fx.base.outputs, 'init true');
});

test('init "gaussian": A ~ N(0, 1/r), B = 0; init false leaves B non-zero', () => {
  const { result: g } = captureWarnings(() => new LoraModel(new Net(), new LoraConfig({ r: 4, targetModules: ['c_fc'], initLoraWeights: 'gaussian' })));
  const a = [...layers(g).values()].flatMap((l) => [...l.factors('default').A.toArray()]);
  assert.ok(Math.abs(stats(a).std - 0.25) < 0.05, `std ${stats(a).std}`);
  assert.ok([...layers(g).values()].every((l) => l.factors('default').B.toArray().every((v) => v === 0)));
  const { result: f } = captureWarnings(() => new LoraModel(new Net(), new LoraConfig({ r: 4, targetModules: ['c_fc'], initLoraWeights: false })));
  const b = stats([...layers(f).values()].flatMap((l) => [...l.factors('default').B.toArray()]));
  assert.ok(b.maxAbs > 0 && b.maxAbs <= 0.5, 'B ~ U(±1/√r)');
});

test('init "orthogonal": A and B of the right shapes, the base untouched', () => {
  const { result: lm } = captureWarnings(() => new LoraModel(new Net(), new LoraConfig({ r: 4, targetModules: ['c_fc'], initLoraWeights: 'orthogonal' })));
  for (const layer of layers(lm).values()) {
    const { A, B } = layer.factors('default');
    assert.deepEqual([[...A.shape], [...B.shape]], [[4, 8], [12, 4]]);
    assert.ok(B.toArray().some((v) => v !== 0));
  }
  const params = new Map(lm.model.namedParameters());
  assert.deepEqual([...params.get('model.layers.0.mlp.c_fc.base_layer.weight')!.toArray()], fx.base.weights['model.layers.0.mlp.c_fc.weight']!.data.map(Math.fround));
});

test('unsupported inits and options are refused before the model changes', () => {
  for (const init of ['corda', 'loftq', 'mica'] as const) {
    const config = captureWarnings(() => new LoraConfig({ targetModules: ['q_proj'], initLoraWeights: init, ...(init === 'loftq' ? { loftqConfig: { loftq_bits: 4 } as never } : {}) })).result;
    const net = new Net();
    assert.throws(() => new LoraModel(net, config), UnsupportedError);
    assert.ok([...net.namedModules()].every(([, m]) => !(m instanceof LoraLayer)));
  }
  for (const [options, message] of [
    [{ targetModules: ['q_proj', 'c_fc'], initLoraWeights: 'olora' }, /c_fc: OLoRA is not supported on Conv1D/],
    [{ targetModules: ['q_proj', 'c_fc'], initLoraWeights: 'pissa', r: 9 }, /q_proj: init_lora_weights "pissa" needs r <= min\(in, out\) = 8, got r=9/],
    [{ targetModules: ['q_proj'], initLoraWeights: 'orthogonal', r: 3 }, /even rank/],
  ] as const) {
    const net = new Net();
    const before = net.namedParameters().map(([, t]) => t.toArray());
    assert.throws(() => new LoraModel(net, new LoraConfig(options)), message);
    assert.ok([...net.namedModules()].every(([, m]) => !(m instanceof LoraLayer)), 'no layer was replaced');
    assert.deepEqual(net.namedParameters().map(([, t]) => t.toArray()), before, 'no weight was changed');
  }
  assert.throws(() => new LoraModel(new Net(), new LoraConfig({ targetModules: ['q_proj'], layerReplication: [[0, 1]] })), /layer_replication/);
});
