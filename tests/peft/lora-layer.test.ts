// LoRA layers on their own: the in-place low-rank update and its gradients, frozen base weights, merge safety and
// state errors, mixed-batch argument checks, padding rows, and target checks of LoraModel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, randn, sum, type Tensor } from '../../src/engine/index.js';
import { Embedding } from '../../src/nn/embedding.js';
import { LayerNorm } from '../../src/nn/norm.js';
import { Conv1D, Linear } from '../../src/nn/linear.js';
import { Module, ModuleList } from '../../src/nn/module.js';
import { PretrainedConfig } from '../../src/models/config.js';
import type { ModelOutput } from '../../src/models/outputs.js';
import { PreTrainedModel } from '../../src/models/pretrained.js';
import { AdapterError, MergeError, TargetModulesError } from '../../src/peft/errors.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraEmbedding, LoraLinear } from '../../src/peft/tuners/lora/layer.js';
import { addLowRank } from '../../src/peft/tuners/lora/low-rank.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
import { assertClose } from '../helpers/assert-close.js';
import { captureWarnings } from '../helpers/peft.js';

function layerConfig(options: ConstructorParameters<typeof LoraConfig>[0] = {}): LoraConfig {
  return captureWarnings(() => new LoraConfig({ targetModules: ['x'], initLoraWeights: false, ...options })).result;
}

function linearLayer(options: ConstructorParameters<typeof LoraConfig>[0] = {}, bias = true): LoraLinear {
  return new LoraLinear(new Linear(6, 4, { bias }), 'default', layerConfig(options), { r: 2, loraAlpha: 4, key: 'blocks.0.proj' });
}

test('addLowRank adds scale·(h·Bᵀ + bias) into the selected rows and back-propagates as the explicit product', () => {
  const y = randn([5, 3]);
  const yCopy = y.toArray();
  const h = randn([3, 2]).setRequiresGrad();
  const B = randn([3, 2]).setRequiresGrad();
  const bias = randn([3]).setRequiresGrad();
  const runs = [{ src: 0, dst: 3, count: 2 }, { src: 2, dst: 0, count: 1 }];
  const out = addLowRank(y, h, B, 0.5, { bias, runs });
  const g = randn([5, 3]);
  out.backward(g);
  const [hv, Bv, bv, gv] = [h.toArray(), B.toArray(), bias.toArray(), g.toArray()];
  const expected = Float64Array.from(yCopy);
  const gh = new Float64Array(6);
  const gB = new Float64Array(6);
  const gb = new Float64Array(3);
  for (const run of runs) {
    for (let k = 0; k < run.count; k++) {
      const [src, dst] = [run.src + k, run.dst + k];
      for (let o = 0; o < 3; o++) {
        let dot = bv[o]!;
        for (let j = 0; j < 2; j++) dot += hv[src * 2 + j]! * Bv[o * 2 + j]!;
        expected[dst * 3 + o]! += 0.5 * dot;
        gb[o]! += 0.5 * gv[dst * 3 + o]!;
        for (let j = 0; j < 2; j++) {
          gh[src * 2 + j]! += 0.5 * gv[dst * 3 + o]! * Bv[o * 2 + j]!;
          gB[o * 2 + j]! += 0.5 * gv[dst * 3 + o]! * hv[src * 2 + j]!;
        }
      }
    }
  }
  assertClose(out.toArray(), expected, {}, 'output');
  assertClose(h.grad!.toArray(), gh, {}, 'grad h');
  assertClose(B.grad!.toArray(), gB, {}, 'grad B');
  assertClose(bias.grad!.toArray(), gb, {}, 'grad bias');
  assert.throws(() => addLowRank(randn([5, 3]), h, B, 1, { runs: [{ src: 0, dst: 4, count: 3 }] }), /outside/);
  assert.throws(() => addLowRank(randn([5, 3]), h, B, 1, { runs: [{ src: 0, dst: 0, count: 2 }] }), /cover 2 rows but h has 3/);
  assert.throws(() => addLowRank(randn([5, 3]), h, B, 1), /has 3 rows but y has 5/);
});

test('the frozen base weight gets no gradient; the input and the adapter do', () => {
  const layer = linearLayer();
  layer.getBaseLayer().requiresGrad(false);
  const x = randn([2, 3, 6]).setRequiresGrad();
  sum(layer.forward(x)).backward();
  assert.equal(layer.weight.grad, null);
  assert.equal(layer.bias!.grad, null);
  assert.ok(x.grad !== null);
  const { A, B } = layer.factors('default');
  assert.ok(A.grad !== null && B.grad !== null);
});

test('safeMerge refuses non-finite results, names the module and adapter, and leaves the weights alone', () => {
  const layer = linearLayer();
  const before = layer.weight.toArray();
  layer.factors('default').B.data()[0] = Number.NaN;
  assert.throws(
    () => layer.merge({ safeMerge: true }),
    (e: unknown) => e instanceof MergeError && e.module === 'blocks.0.proj' && e.adapter === 'default' && /NaN/.test(e.message),
  );
  assert.deepEqual(layer.weight.toArray(), before);
  assert.equal(layer.merged, false);
});

test('a merge without safeMerge that leaves NaN or infinite weights warns, naming the module and adapter', () => {
  const finite = linearLayer();
  assert.deepEqual(captureWarnings(() => finite.merge()).warnings, []);
  const layer = linearLayer();
  layer.factors('default').A.data()[0] = Number.POSITIVE_INFINITY;
  const { warnings } = captureWarnings(() => layer.merge());
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^blocks\.0\.proj: merging adapter 'default' put NaN or infinite values into the base weights.*safeMerge: true/);
  assert.equal(layer.merged, true);
});

test('merge state: merging twice warns, unmerge restores, a disabled merged layer unmerges on forward', () => {
  const layer = linearLayer();
  const before = layer.weight.toArray();
  const x = randn([2, 6]);
  const adapted = layer.forward(x).toArray();
  layer.merge();
  assertClose(layer.forward(x).toArray(), adapted, { atol: 1e-5 }, 'merged forward');
  assert.match(captureWarnings(() => layer.merge()).warnings.join(), /already merged/);
  layer.enableAdapters(false);
  layer.forward(x);
  assert.equal(layer.merged, false);
  assertClose(layer.weight.toArray(), before, { atol: 1e-6 }, 'unmerged');
  assert.match(captureWarnings(() => layer.unmerge()).warnings.join(), /already unmerged/);
});

test('lora_bias cannot be merged into a layer without bias', () => {
  const { result: layer } = captureWarnings(() => linearLayer({ loraBias: true }, false));
  assert.throws(() => layer.merge(), (e: unknown) => e instanceof MergeError && /needs a bias/.test(e.message));
});

test('mixed batches check their argument', () => {
  const layer = linearLayer();
  assert.throws(() => layer.forward(randn([2, 6]), { adapterNames: ['default'] }), /1 entries but the batch has 2/);
  const dora = linearLayer({ useDora: true });
  assert.throws(() => dora.forward(randn([1, 6]), { adapterNames: ['default'] }), /DoRA/);
  const out = layer.forward(randn([2, 6]), { adapterNames: ['__base__', '__base__'] });
  assert.deepEqual([...out.shape], [2, 4]);
});

test('a LoraLinear needs fan_in_fan_out to match its base layer', () => {
  assert.throws(() => new LoraLinear(new Conv1D(4, 6), 'default', layerConfig(), { r: 2, loraAlpha: 2 }), AdapterError);
  const conv = new LoraLinear(new Conv1D(4, 6), 'default', layerConfig({ fanInFanOut: true }), { r: 2, loraAlpha: 2 });
  assert.deepEqual([...conv.getDeltaWeight('default').shape], [6, 4]);
});

test('the padding row of an embedding gets no LoRA gradient', () => {
  const layer = new LoraEmbedding(new Embedding(5, 3, { paddingIdx: 1 }), 'default', layerConfig(), { r: 2, loraAlpha: 2 });
  const ids = fromArray(Int32Array.from([1, 2, 1]), [3]);
  sum(layer.forward(ids)).backward();
  const g = layer.factors('default').A.grad!.toArray();
  for (let k = 0; k < 2; k++) {
    assert.equal(g[k * 5 + 1], 0);
    assert.notEqual(g[k * 5 + 2], 0);
  }
});

class WithNorm extends Module {
  constructor() {
    super();
    this.registerModule('proj', new Linear(4, 4));
    this.registerModule('norm', new LayerNorm(4));
  }

  forward(x: Tensor): Tensor {
    return this.child<LayerNorm>('norm').forward(this.child<Linear>('proj').forward(x));
  }
}

test('targeting an unsupported layer names it and changes nothing', () => {
  const net = new WithNorm();
  assert.throws(
    () => new LoraModel(net, new LoraConfig({ targetModules: ['proj', 'norm'] })),
    (e: unknown) => e instanceof TargetModulesError && /'norm' is a LayerNorm/.test(e.message),
  );
  assert.equal(net.child('proj').typeName, 'Linear');
});

test('fan_in_fan_out is corrected per target type, with a warning, in the saved config', () => {
  const config = new LoraConfig({ targetModules: ['proj'], fanInFanOut: true });
  const { warnings } = captureWarnings(() => new LoraModel(new WithNorm(), config));
  assert.equal(config.fanInFanOut, false);
  assert.ok(warnings.some((w) => /fan_in_fan_out is true but the target is a Linear/.test(w)));
});

class TinyLlama extends PreTrainedModel {
  readonly baseModelPrefix = 'model';

  constructor(tie: boolean) {
    super(new PretrainedConfig({ model_type: 'llama', vocab_size: 10, tie_word_embeddings: tie }));
    const layer = new Module();
    layer.registerModule('q_proj', new Linear(4, 4));
    layer.registerModule('k_proj', new Linear(4, 4));
    layer.registerModule('v_proj', new Linear(4, 4));
    const inner = new Module();
    inner.registerModule('embed_tokens', new Embedding(10, 4));
    inner.registerModule('layers', new ModuleList([layer]));
    this.registerModule('model', inner);
    this.registerModule('lm_head', new Linear(4, 10, { bias: false }));
  }

  forward(): ModelOutput {
    return {};
  }

  getInputEmbeddings(): Embedding {
    return this.child('model').child<Embedding>('embed_tokens');
  }

  override getOutputEmbeddings(): Linear {
    return this.child<Linear>('lm_head');
  }
}

test('transformers models: default targets come from config.model_type, "all-linear" leaves the LM head out', () => {
  const byDefault = new LoraModel(new TinyLlama(false), new LoraConfig({}));
  assert.deepEqual([...(byDefault.peftConfig.get('default')!.targetModules as Set<string>)].sort(), ['q_proj', 'v_proj']);
  assert.deepEqual(byDefault.targetedModuleNames, ['model.layers.0.q_proj', 'model.layers.0.v_proj']);
  const all = new LoraModel(new TinyLlama(false), new LoraConfig({ targetModules: 'all-linear' }));
  assert.deepEqual(all.targetedModuleNames, ['model.layers.0.q_proj', 'model.layers.0.k_proj', 'model.layers.0.v_proj']);
  assert.throws(() => new LoraModel(new TinyLlama(true), new LoraConfig({ trainableTokenIndices: [1, 2] })), /tied input and output embeddings/);
  const tokens = new LoraModel(new TinyLlama(false), new LoraConfig({ trainableTokenIndices: [1, 2] }));
  assert.equal(tokens.model.child('model').child('embed_tokens').typeName, 'TrainableTokensWrapper');
});

test('a rank whose factors cannot fit in memory is refused before allocating, naming the layer', () => {
  const huge = 2 ** 40;
  assert.throws(
    () => new LoraLinear(new Linear(6, 4), 'default', layerConfig(), { r: huge, loraAlpha: 4, key: 'blocks.0.proj' }),
    (e: unknown) => e instanceof AdapterError && /blocks\.0\.proj.*r=1099511627776 needs [\d.]+ GiB for this layer's A and B, more than this machine's [\d.]+ GiB of memory/.test((e as Error).message),
  );
});
