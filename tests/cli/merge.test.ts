// `peftjs merge`: a trained adapter folded into the base weights gives a model folder that loads on its
// own and computes what the base model with the adapter computes.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { fromArray, noGrad } from '../../src/engine/index.js';
import { SafetensorsFile } from '../../src/io/safetensors-reader.js';
import { saveSafetensors } from '../../src/io/safetensors-writer.js';
import { AutoModelForCausalLM } from '../../src/models/index.js';
import { PeftModel } from '../../src/peft/peft-model.js';
import { assertClose } from '../helpers/assert-close.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTinyLlamaFolder } from '../helpers/tiny-llama.js';

function weights(dir: string): Map<string, Float32Array> {
  const st = SafetensorsFile.open(join(dir, 'model.safetensors'));
  try {
    return new Map(st.keys().map((k) => [k, new Float32Array(st.readRaw(k).bytes.slice().buffer)]));
  } finally {
    st.close();
  }
}

test('merge: the merged folder loads alone, matches base + adapter, and differs from the base only in the adapted layers', async () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-merge-'));
  writeFileSync(join(work, 'corpus.txt'), Array.from({ length: 8 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog.`).join('\n\n'));
  const adapter = join(work, 'adapter');
  const trained = runCli(['train', '--model', model, '--data', join(work, 'corpus.txt'), '--output', adapter, '--block-size', '16', '--max-steps', '3', '--learning-rate', '5e-2', '--no-progress']);
  assert.equal(trained.status, 0, trained.stderr);
  const merged = join(work, 'merged');
  const r = runCli(['merge', '--model', model, '--adapter', adapter, '--output', merged]);
  assert.equal(r.status, 0, r.stderr);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja']) assert.ok(existsSync(join(merged, f)), f);
  assert.deepEqual(JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8')), JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')));

  const before = weights(model);
  const after = weights(merged);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  const changed = [...after].filter(([k, v]) => v.some((x, i) => x !== before.get(k)![i])).map(([k]) => k).sort();
  assert.deepEqual(changed, ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.v_proj.weight', 'model.layers.1.self_attn.q_proj.weight', 'model.layers.1.self_attn.v_proj.weight']);

  const ids = fromArray(new Int32Array([0, 17, 42, 99, 7, 300]), [1, 6], 'int32');
  const withAdapter = await PeftModel.fromPretrained(await AutoModelForCausalLM.fromPretrained(model), adapter);
  const mergedModel = await AutoModelForCausalLM.fromPretrained(merged);
  mergedModel.eval();
  const expected = noGrad(() => withAdapter.forward({ inputIds: ids }).logits!.data());
  const actual = noGrad(() => mergedModel.forward({ inputIds: ids }).logits!.data());
  assertClose(actual, expected, { atol: 1e-4, rtol: 1e-4 });
});

test('merge: typed errors for a missing adapter and an unknown option', () => {
  const missing = runCli(['merge', '--model', 'm', '--adapter', mkdtempSync(join(tmpdir(), 'peftjs-none-')), '--output', 'o']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /has no adapter_config\.json/);
  const unknown = runCli(['merge', '--model', 'm', '--adapter', 'a', '--ouput', 'o']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option --ouput \(did you mean --output\?\)/);
});

/** A copy of `adapter` whose first lora_A weight holds `value`. */
function brokenAdapter(adapter: string, value: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-broken-'));
  copyFileSync(join(adapter, 'adapter_config.json'), join(dir, 'adapter_config.json'));
  const st = SafetensorsFile.open(join(adapter, 'adapter_model.safetensors'));
  const tensors = new Map(st.keys().map((k) => {
    const raw = st.readRaw(k);
    return [k, fromArray(new Float32Array(raw.bytes.slice().buffer), [...raw.shape])] as const;
  }));
  st.close();
  tensors.get([...tensors.keys()].find((k) => k.includes('lora_A'))!)!.data()[0] = value;
  saveSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
  return dir;
}

test('merge: an adapter with NaN or infinite weights is refused, with or without --safe-merge, and nothing is written', () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-merge-'));
  writeFileSync(join(work, 'corpus.txt'), Array.from({ length: 8 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog.`).join('\n\n'));
  const adapter = join(work, 'adapter');
  const trained = runCli(['train', '--model', model, '--data', join(work, 'corpus.txt'), '--output', adapter, '--block-size', '16', '--max-steps', '1', '--no-progress']);
  assert.equal(trained.status, 0, trained.stderr);
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
    const broken = brokenAdapter(adapter, value);
    const output = join(work, `merged-${value}`);
    const safe = runCli(['merge', '--model', model, '--adapter', broken, '--output', output]);
    assert.equal(safe.status, 1, safe.stderr);
    assert.match(safe.stderr, /MergeError: model\.layers\.0\.self_attn\.q_proj: cannot merge adapter 'default': the merged weights hold NaN or infinite values/);
    const unsafe = runCli(['merge', '--model', model, '--adapter', broken, '--output', output, '--no-safe-merge']);
    assert.equal(unsafe.status, 1, unsafe.stderr);
    assert.match(unsafe.stderr, /merging adapter 'default' put NaN or infinite values into the base weights/);
    assert.match(unsafe.stderr, /the merged model holds NaN or infinite values in model\.layers\.0\.self_attn\.q_proj\.weight; .*nothing was written/);
    assert.equal(existsSync(output), false);
  }
});

test('merge: an --output that is a file, empty, the --model folder or the --adapter folder is a usage error naming it', () => {
  const model = makeTinyLlamaFolder();
  const work = mkdtempSync(join(tmpdir(), 'peftjs-merge-'));
  const adapter = join(work, 'adapter');
  mkdirSync(adapter);
  writeFileSync(join(work, 'file'), 'x');
  const modelFiles = readdirSync(model).map((f) => [f, readFileSync(join(model, f))] as const);
  const cases: [string, RegExp][] = [
    [join(work, 'file'), /--output: .*file is a file; expected a folder for the merged model/],
    ['', /--output: expected a folder for the merged model, got an empty path/],
    [model, /--output: .* is the --model folder; the merged weights would replace the base model's/],
    [join(model, '..', basename(model), '.'), /is the --model folder/],
    [adapter, /--output: .*adapter is the --adapter folder/],
  ];
  for (const [output, message] of cases) {
    const r = runCli(['merge', '--model', model, '--adapter', adapter, '--output', output]);
    assert.equal(r.status, 2, `${output}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(readdirSync(model).map((f) => [f, readFileSync(join(model, f))] as const), modelFiles);
  assert.deepEqual(readdirSync(adapter), []);
});
