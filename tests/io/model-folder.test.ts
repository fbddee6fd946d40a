// Model and adapter folders: file preferences, shards, subfolders, errors; local and through the mock Hub.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { resolveAdapterFolder } from '../../src/io/adapter-folder.js';
import { ModelFolderError } from '../../src/io/file-source.js';
import { JsonFileError } from '../../src/io/json-file.js';
import { resolveModelFolder } from '../../src/io/model-folder.js';
import { MockHub } from '../helpers/mock-hub.js';
import { makeTempDir, setHubEnv } from '../helpers/temp.js';

const CONFIG = '{"model_type": "llama", "hidden_size": 8}';
const INDEX = JSON.stringify({
  metadata: { total_size: 24 },
  weight_map: { 'b.weight': 'model-00002-of-00002.safetensors', 'a.weight': 'model-00001-of-00002.safetensors', 'c.weight': 'model-00002-of-00002.safetensors' },
});
const ADAPTER_CONFIG = '{"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"]}';
const C1 = 'e'.repeat(40);

let tmp: { dir: string; remove: () => void };
let restoreEnv: () => void;

beforeEach(() => {
  tmp = makeTempDir();
  restoreEnv = setHubEnv();
});

afterEach(() => {
  tmp.remove();
  restoreEnv();
});

function folder(files: Record<string, string>, name = 'model'): string {
  const dir = join(tmp.dir, name);
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), content);
  }
  return dir;
}

test('local folder: config, generation config, safetensors preferred over .bin, tokenizer files', async () => {
  const dir = folder({
    'config.json': CONFIG,
    'generation_config.json': '{"max_new_tokens": 5}',
    'model.safetensors': 'st',
    'pytorch_model.bin': 'pt',
    'tokenizer.json': '{}',
    'tokenizer_config.json': '{}',
  });
  const m = await resolveModelFolder(dir);
  assert.equal(m.dir, dir);
  assert.equal(m.commit, null);
  assert.deepEqual(m.config, { model_type: 'llama', hidden_size: 8 });
  assert.deepEqual(m.generationConfig, { max_new_tokens: 5 });
  assert.deepEqual(m.weights, { format: 'safetensors', files: [join(dir, 'model.safetensors')], sharded: false, index: null });
  assert.deepEqual(m.tokenizer, {
    tokenizer: join(dir, 'tokenizer.json'),
    tokenizerConfig: join(dir, 'tokenizer_config.json'),
    specialTokensMap: null,
    chatTemplate: null,
  });
  const bin = await resolveModelFolder(dir, { useSafetensors: false });
  assert.deepEqual(bin.weights.files, [join(dir, 'pytorch_model.bin')]);
});

test('sharded checkpoints: the index lists the shards, sorted and deduplicated', async () => {
  const dir = folder({
    'config.json': CONFIG,
    'model.safetensors.index.json': INDEX,
    'model-00001-of-00002.safetensors': '1',
    'model-00002-of-00002.safetensors': '2',
    'pytorch_model.bin': 'pt',
  });
  const m = await resolveModelFolder(dir);
  assert.equal(m.generationConfig, null);
  assert.deepEqual(m.weights, {
    format: 'safetensors',
    files: [join(dir, 'model-00001-of-00002.safetensors'), join(dir, 'model-00002-of-00002.safetensors')],
    sharded: true,
    index: join(dir, 'model.safetensors.index.json'),
  });
  const pt = folder({ 'config.json': CONFIG, 'pytorch_model.bin.index.json': '{"weight_map": {"w": "pytorch_model-1.bin"}}', 'pytorch_model-1.bin': 'x' }, 'pt');
  assert.deepEqual((await resolveModelFolder(pt)).weights, {
    format: 'pytorch',
    files: [join(pt, 'pytorch_model-1.bin')],
    sharded: true,
    index: join(pt, 'pytorch_model.bin.index.json'),
  });
});

test('subfolders of a local directory', async () => {
  const dir = folder({ 'text_encoder/config.json': CONFIG, 'text_encoder/model.safetensors': 'st' });
  const m = await resolveModelFolder(dir, { subfolder: 'text_encoder' });
  assert.equal(m.dir, join(dir, 'text_encoder'));
  assert.deepEqual(m.weights.files, [join(dir, 'text_encoder', 'model.safetensors')]);
});

test('model folder errors name the folder or file and what was expected', async () => {
  const noConfig = folder({ 'model.safetensors': 'st' }, 'a');
  await assert.rejects(resolveModelFolder(noConfig), (e: unknown) => e instanceof ModelFolderError && e.message.includes(`directory '${noConfig}' has no config.json`));
  const badJson = folder({ 'config.json': '{"a": ' }, 'b');
  await assert.rejects(resolveModelFolder(badJson), (e: unknown) => e instanceof JsonFileError && e.path === join(badJson, 'config.json') && /not valid JSON/.test(e.message));
  const arrayJson = folder({ 'config.json': '[1]' }, 'c');
  await assert.rejects(resolveModelFolder(arrayJson), /config\.json: must hold a JSON object, found an array/);
  const onlyBin = folder({ 'config.json': CONFIG, 'pytorch_model.bin': 'pt' }, 'd');
  await assert.rejects(resolveModelFolder(onlyBin, { useSafetensors: true }), /has no model weights: expected one of model\.safetensors, model\.safetensors\.index\.json$/);
  const noWeights = folder({ 'config.json': CONFIG }, 'e');
  await assert.rejects(resolveModelFolder(noWeights), /expected one of model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin, pytorch_model\.bin\.index\.json/);
  const badIndex = folder({ 'config.json': CONFIG, 'model.safetensors.index.json': '{"metadata": {}}' }, 'f');
  await assert.rejects(resolveModelFolder(badIndex), /model\.safetensors\.index\.json: expected a "weight_map" object/);
  const missingShard = folder({ 'config.json': CONFIG, 'model.safetensors.index.json': INDEX, 'model-00001-of-00002.safetensors': '1' }, 'g');
  await assert.rejects(resolveModelFolder(missingShard), /lacks 'model-00002-of-00002\.safetensors'/);
  await assert.rejects(resolveModelFolder(join(tmp.dir, 'no', 'such', 'dir')), /is neither an existing directory nor a valid Hub repo id/);
  await assert.rejects(resolveModelFolder(join(noConfig, 'model.safetensors')), /is a file; expected a directory or a Hub repo id/);
});

test('adapters: safetensors preferred over .bin, subfolders, peft_type required', async () => {
  const dir = folder({
    'adapter_config.json': ADAPTER_CONFIG,
    'adapter_model.safetensors': 'st',
    'adapter_model.bin': 'pt',
    'other/adapter_config.json': ADAPTER_CONFIG,
    'other/adapter_model.bin': 'pt',
  });
  const a = await resolveAdapterFolder(dir);
  assert.equal(a.config.peft_type, 'LORA');
  assert.deepEqual(a.weights, { format: 'safetensors', file: join(dir, 'adapter_model.safetensors') });
  const sub = await resolveAdapterFolder(dir, { subfolder: 'other' });
  assert.equal(sub.dir, join(dir, 'other'));
  assert.deepEqual(sub.weights, { format: 'pytorch', file: join(dir, 'other', 'adapter_model.bin') });
  const noType = folder({ 'adapter_config.json': '{"r": 4}', 'adapter_model.bin': 'pt' }, 'x');
  await assert.rejects(resolveAdapterFolder(noType), /adapter_config\.json: expected a string "peft_type"/);
  const noWeights = folder({ 'adapter_config.json': ADAPTER_CONFIG }, 'y');
  await assert.rejects(resolveAdapterFolder(noWeights), /has no adapter weights: expected adapter_model\.safetensors or adapter_model\.bin/);
  await assert.rejects(resolveAdapterFolder(folder({ 'x.txt': '' }, 'z')), /has no adapter_config\.json/);
});

test('Hub repos: files come from one commit; a second resolution costs a single HEAD', async () => {
  const hub = await MockHub.start({
    'org/sharded': {
      refs: { main: C1 },
      commits: {
        [C1]: {
          'config.json': CONFIG,
          'model.safetensors.index.json': INDEX,
          'model-00001-of-00002.safetensors': '1',
          'model-00002-of-00002.safetensors': '2',
          'tokenizer.json': '{}',
          'adapters/lora/adapter_config.json': ADAPTER_CONFIG,
          'adapters/lora/adapter_model.bin': 'pt',
        },
      },
    },
  });
  try {
    const opts = { cacheDir: join(tmp.dir, 'cache'), endpoint: hub.url };
    const m = await resolveModelFolder('org/sharded', opts);
    const snap = join(opts.cacheDir, 'models--org--sharded', 'snapshots', C1);
    assert.equal(m.commit, C1);
    assert.equal(m.dir, snap);
    assert.equal(m.source, "repo 'org/sharded' (revision 'main')");
    assert.deepEqual(m.weights.files, [join(snap, 'model-00001-of-00002.safetensors'), join(snap, 'model-00002-of-00002.safetensors')]);
    assert.equal(m.tokenizer.tokenizer, join(snap, 'tokenizer.json'));
    assert.equal(m.tokenizer.chatTemplate, null);
    const heads = hub.requests.filter((r) => r.method === 'HEAD').map((r) => r.path);
    assert.equal(heads[0], '/org/sharded/resolve/main/config.json');
    assert.ok(heads.slice(1).every((p) => p.startsWith(`/org/sharded/resolve/${C1}/`)), heads.join('\n'));

    hub.resetRequests();
    assert.deepEqual(await resolveModelFolder('org/sharded', opts), m);
    assert.deepEqual(hub.requests.map((r) => `${r.method} ${r.path}`), ['HEAD /org/sharded/resolve/main/config.json']);

    const a = await resolveAdapterFolder('org/sharded', { ...opts, subfolder: 'adapters/lora' });
    assert.equal(a.dir, join(snap, 'adapters', 'lora'));
    assert.deepEqual(a.weights, { format: 'pytorch', file: join(snap, 'adapters', 'lora', 'adapter_model.bin') });
    await assert.rejects(resolveAdapterFolder('org/sharded', opts), /repo 'org\/sharded' \(revision 'main'\) has no adapter_config\.json/);
  } finally {
    await hub.close();
  }
});
