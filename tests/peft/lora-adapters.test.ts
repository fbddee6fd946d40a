// Several adapters on one LoraModel against the real PEFT: add (inactive), switch, several active at once, mixed
// adapter batches, merging both, add_weighted_adapter (linear, cat, svd) and delete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, noGrad } from '../../src/engine/index.js';
import { AdapterError } from '../../src/peft/errors.js';
import { LoraConfig } from '../../src/peft/tuners/lora/config.js';
import { LoraModel } from '../../src/peft/tuners/lora/model.js';
import { assertTensorClose } from '../helpers/assert-close.js';
import { assertOutputs, type FixtureTensor, fx, ids, loadAdapterState, Net, type WeightedCase } from '../helpers/lora-net.js';
import { captureWarnings } from '../helpers/peft.js';

const m = fx.multi;

function twoAdapters(other: Record<string, unknown>, state: Record<string, FixtureTensor>): LoraModel<Net> {
  const { result: lm } = captureWarnings(() => {
    const model = new LoraModel(new Net(), LoraConfig.fromJSON(m.config));
    model.addAdapter('other', LoraConfig.fromJSON(other));
    return model;
  });
  loadAdapterState(lm.model, state);
  lm.eval();
  return lm;
}

const run = (lm: LoraModel<Net>) => noGrad(() => lm.forward(ids()));

test('addAdapter adds the layers PEFT adds, frozen and inactive', () => {
  const lm = twoAdapters(m.other_config, m.state);
  assert.deepEqual(lm.model.namedParameters().map(([n, t]) => [n, [...t.shape], t.requiresGrad]), m.parameters_after_add);
  assert.deepEqual(lm.activeAdapters, ['default']);
  assertOutputs(run(lm), m.default_outputs, 'default active');
});

test('setAdapter switches adapters and their trainability; several active adapters are summed; merging both', () => {
  const lm = twoAdapters(m.other_config, m.state);
  lm.setAdapter('other');
  assertOutputs(run(lm), m.other_outputs, 'other');
  const flags = new Map(lm.model.namedParameters().map(([n, t]) => [n, t.requiresGrad]));
  for (const [name, flag] of m.parameters_after_set) assert.equal(flags.get(name), flag, name);
  lm.setAdapter(['default', 'other']);
  assertOutputs(run(lm), m.both_outputs, 'both');
  lm.mergeAdapter();
  assertOutputs(run(lm), m.both_merged_outputs, 'both merged');
  captureWarnings(() => lm.unmergeAdapter());
  assertOutputs(run(lm), m.both_outputs, 'both unmerged');
});

test('mixed adapter batches apply each adapter to its own samples', () => {
  const lm = twoAdapters(m.other_config, m.state);
  const out = lm.withAdapterNames(m.mixed_adapter_names, () => run(lm));
  assertOutputs(out, m.mixed_outputs, 'mixed');
  assertOutputs(run(lm), m.default_outputs, 'after the scope');
  assert.throws(() => lm.withAdapterNames(['other', 'nope', 'default'], () => run(lm)), AdapterError);
  lm.train();
  assert.throws(() => lm.withAdapterNames(m.mixed_adapter_names, () => run(lm)), /eval mode/);
});

function checkWeighted(lm: LoraModel<Net>, w: WeightedCase, weights: number[]): void {
  lm.addWeightedAdapter(['default', 'other'], weights, w.name, { combinationType: w.combination, ...(w.svd_rank === null ? {} : { svdRank: w.svd_rank }) });
  const config = lm.peftConfig.get(w.name)!;
  assert.deepEqual([config.r, config.loraAlpha, [...(config.targetModules as Set<string>)].sort()], [w.config.r, w.config.lora_alpha, w.config.target_modules]);
  const params = new Map(lm.model.namedParameters());
  for (const [name, shape] of Object.entries(w.shapes)) {
    assert.deepEqual([...params.get(name)!.shape], shape, name);
    assert.equal(params.get(name)!.requiresGrad, false, `${name} starts frozen`);
  }
  for (const [name, expected] of Object.entries(w.mix_state ?? {})) assertTensorClose(params.get(name)!, expected, { atol: 1e-5, rtol: 1e-5 }, name);
  lm.setAdapter(w.name);
  assertOutputs(run(lm), w.outputs, w.name);
}

test('addWeightedAdapter cat and svd (with and without svdRank) match PEFT; then deleteAdapter activates the next adapter', () => {
  const lm = twoAdapters(m.other_config, m.state);
  for (const w of m.weighted) checkWeighted(lm, w, m.weights);
  lm.setAdapter('default');
  const { warnings } = captureWarnings(() => lm.deleteAdapter('default'));
  assert.ok(warnings.some((w) => /setting the active adapter to cat_mix/.test(w)), warnings.join('\n'));
  assert.deepEqual(lm.activeAdapters, m.active_after_delete);
  assert.deepEqual(lm.model.namedParameters().map(([n, t]) => [n, t.requiresGrad]), m.parameters_after_delete);
  assertOutputs(run(lm), m.outputs_after_delete, 'after delete');
  assert.deepEqual([...lm.peftConfig.keys()], ['other', 'cat_mix', 'svd_mix', 'svd3_mix']);
});

test('addWeightedAdapter linear matches PEFT', () => {
  const lw = fx.linear_weighted;
  checkWeighted(twoAdapters(lw.other_config, lw.state), lw, lw.weights);
});

test('addWeightedAdapter refuses unequal ranks for linear and unknown adapters', () => {
  const lm = twoAdapters(m.other_config, m.state);
  assert.throws(() => lm.addWeightedAdapter(['default', 'other'], [1, 1], 'x', { combinationType: 'linear' }), /equal rank/);
  assert.throws(() => lm.addWeightedAdapter(['default', 'nope'], [1, 1], 'x'), AdapterError);
  assert.equal(lm.peftConfig.has('x'), false);
});

test('addWeightedAdapter refuses weights that are not finite', () => {
  const lm = twoAdapters(m.other_config, m.state);
  assert.throws(() => lm.addWeightedAdapter(['default', 'other'], [1, Number.NaN], 'x'), /weights must be finite numbers, got NaN for adapter 'other'/);
  assert.throws(() => lm.addWeightedAdapter(['default'], [Infinity], 'x'), /got Infinity for adapter 'default'/);
  assert.equal(lm.peftConfig.has('x'), false);
});

test('adapter names are non-empty strings without dots, as PyTorch module names', () => {
  const lm = twoAdapters(m.other_config, m.state);
  // '' would save over the "default" adapter's folder; a dot splits the parameter name, so the weights would not load back.
  for (const name of ['', 'a.b', '../elsewhere']) {
    assert.throws(() => lm.addAdapter(name, LoraConfig.fromJSON(m.other_config)), new RegExp(`adapter name must be a non-empty string without '\\.', got ${JSON.stringify(name).replace(/\./g, '\\.')}`));
  }
  assert.throws(() => new LoraModel(new Net(), LoraConfig.fromJSON(m.config), 'v1.2'), AdapterError);
  assert.deepEqual([...lm.peftConfig.keys()], ['default', 'other']);
});

test('adapter management errors name the adapter', () => {
  const lm = twoAdapters(m.other_config, m.state);
  assert.throws(() => lm.setAdapter('nope'), /adapter 'nope' does not exist/);
  assert.throws(() => lm.addAdapter('other', LoraConfig.fromJSON(m.other_config)), /'other' already exists/);
  lm.mergeAdapter();
  assert.throws(() => lm.deleteAdapter('default'), /while it is merged/);
  assert.throws(() => lm.withAdapterNames(['default', 'other', '__base__'], () => run(lm)), /merged/);
});

test('a failed addAdapter leaves no config behind', () => {
  const lm = twoAdapters(m.other_config, m.state);
  assert.throws(() => lm.addAdapter('bad', new LoraConfig({ targetModules: ['nope'] })), /matched no module/);
  assert.deepEqual([...lm.peftConfig.keys()], ['default', 'other']);
  const { result: withBias } = captureWarnings(() => new LoraModel(new Net(), new LoraConfig({ targetModules: ['q_proj'], bias: 'all' })));
  assert.throws(() => withBias.addAdapter('b2', new LoraConfig({ targetModules: ['q_proj'], bias: 'lora_only' })), /only one adapter may train biases/);
});

test('mixed batches also route samples through modules_to_save copies and trainable tokens', () => {
  const c = fx.cases.find((x) => x.name === 'all_linear_wrappers')!;
  const { result: lm } = captureWarnings(() => new LoraModel(new Net(), LoraConfig.fromJSON(c.config)));
  loadAdapterState(lm.model, c.state);
  lm.eval();
  const out = lm.withAdapterNames(['default', '__base__', 'default'], () => run(lm));
  // Samples do not interact in this network: each one must equal the same sample of the adapted or the base run.
  for (const key of ['logits', 'cls'] as const) {
    const per = out[key].size / 3;
    const got = out[key].toArray();
    [c.outputs, fx.base.outputs, c.outputs].forEach((expected, sample) => {
      const want = expected[key].data.slice(sample * per, (sample + 1) * per);
      assertTensorClose(fromArray(got.slice(sample * per, (sample + 1) * per)), { shape: [per], data: want }, { atol: 1e-4, rtol: 1e-4 }, `${key} sample ${sample}`);
    });
  }
});
