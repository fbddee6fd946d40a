import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, SafetensorsError, ShardedSafetensors } from '../../src/io/index.js';
import { assertTensorMatches, type FixtureTensors, formatsFixture, formatsPath } from '../helpers/file-fixtures.js';
import { withTempDir } from '../helpers/temp-dir.js';

const { tensors } = formatsFixture<{ tensors: FixtureTensors }>('sharded.json');
const indexPath = formatsPath('sharded', 'model.safetensors.index.json');
const shards = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'];

test('sharded safetensors: loads every tensor of a checkpoint saved by huggingface_hub', () => {
  const loaded = loadSafetensors(indexPath);
  assert.deepEqual([...loaded.keys()].sort(), Object.keys(tensors).sort());
  for (const [key, t] of loaded) {
    assertTensorMatches(t, tensors[key]!, key);
    t.dispose();
  }
  const sharded = ShardedSafetensors.open(indexPath);
  assert.equal(sharded.metadata.total_size, 432);
  assert.deepEqual(sharded.info('model.embed.weight'), { dtype: 'BF16', shape: [6, 4], byteLength: 48 });
  sharded.close();
});

function fails(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof SafetensorsError && err.file === file && pattern.test(err.message));
}

test('sharded safetensors: missing shards and keys are typed errors naming index, shard and key', () => {
  withTempDir((dir) => {
    const index = join(dir, 'model.safetensors.index.json');
    copyFileSync(indexPath, index);
    copyFileSync(formatsPath('sharded', shards[0]!), join(dir, shards[0]!));
    fails(() => ShardedSafetensors.open(index), index, /'model.layers.1.weight': is in shard 'model-00002-of-00003.safetensors', which is missing/);

    const weightMap = { 'model.layers.0.weight': shards[0], 'model.layers.9.weight': shards[0] };
    writeFileSync(index, JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const sharded = ShardedSafetensors.open(index);
    fails(() => sharded.readTensor('model.layers.9.weight'), index, /'model.layers.9.weight': is listed in shard 'model-00001-of-00003.safetensors', which holds no such tensor/);
    fails(() => sharded.readTensor('lm_head.weight'), index, /'lm_head.weight': is not listed in the weight_map/);
    sharded.readTensor('model.layers.0.weight').dispose();
    sharded.close();

    writeFileSync(index, JSON.stringify({ weight_map: { w: '../outside.safetensors' } }));
    fails(() => ShardedSafetensors.open(index), index, /'w': maps to "..\/outside.safetensors"; expected the file name of a shard/);
    writeFileSync(index, JSON.stringify({ weight_map: [] }));
    fails(() => ShardedSafetensors.open(index), index, /'weight_map': must be an object/);
    writeFileSync(index, '{"weight_map": {');
    fails(() => loadSafetensors(index), index, /shard index is not valid JSON/);
    const absent = join(dir, 'absent.index.json');
    fails(() => loadSafetensors(absent), absent, /cannot read the shard index/);
  });
});
