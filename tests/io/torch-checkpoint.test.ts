import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/engine/index.js';
import { loadTorchCheckpoint, type RawTensor, TorchCheckpointError, UnsafePickleError } from '../../src/io/index.js';
import { assertRawMatches, assertTensorMatches, type FixtureTensor, type FixtureTensors, formatsFixture, formatsPath } from '../helpers/file-fixtures.js';

const described = formatsFixture<Record<string, FixtureTensors>>('torch.json');
const ENGINE_DTYPES = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', I32: 'int32' } as Record<string, string>;

function assertLoaded(value: Tensor | RawTensor | undefined, expected: FixtureTensor, key: string): void {
  assert.ok(value !== undefined, `${key} is missing`);
  if (value instanceof Tensor) {
    assert.equal(value.dtype, ENGINE_DTYPES[expected.dtype], key);
    assertTensorMatches(value, expected, key);
    value.dispose();
  } else {
    assert.equal(ENGINE_DTYPES[expected.dtype], undefined, `${key} should be an engine tensor`);
    assertRawMatches(value, expected, key);
  }
}

const files: [string, string][] = [
  ['state_dict.bin', 'state_dict'],
  ['adapter_model.bin', 'adapter_model'],
  ['big_endian.bin', 'own_storage'],
  ['deflated.bin', 'own_storage'],
  ['zip64.bin', 'own_storage'],
  ['protocol4.bin', 'own_storage'],
];

for (const [file, name] of files) {
  test(`torch checkpoint: ${file} loads with torch.save's values, in order`, () => {
    const loaded = loadTorchCheckpoint(formatsPath(file));
    const expected = described[name]!;
    assert.deepEqual([...loaded.keys()], Object.keys(expected));
    for (const [key, t] of Object.entries(expected)) assertLoaded(loaded.get(key), t, key);
  });
}

test('torch checkpoint: views of one shared storage become independent row-major copies', () => {
  const loaded = loadTorchCheckpoint(formatsPath('state_dict.bin'));
  const dense = loaded.get('dense') as Tensor;
  const transposed = loaded.get('transposed') as Tensor;
  assert.deepEqual(transposed.shape, [6, 4]);
  const d = dense.toArray();
  const t = transposed.toArray();
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) assert.equal(t[i * 4 + j], d[j * 6 + i]);
  t[0] = 1234;
  assert.notEqual(dense.toArray()[0], 1234);
  for (const v of loaded.values()) if (v instanceof Tensor) v.dispose();
});

for (const [file, global] of [
  ['malicious_os_system.bin', 'os.system'],
  ['malicious_builtins_eval.bin', 'builtins.eval'],
  ['malicious_load_from_bytes.bin', 'torch.storage._load_from_bytes'],
]) {
  test(`torch checkpoint: ${file} is refused naming ${global}, nothing runs`, () => {
    const path = formatsPath(file!);
    assert.throws(
      () => loadTorchCheckpoint(path),
      (err: unknown) => err instanceof UnsafePickleError && err.global === global && err.file === path && err.message.includes(`'${global}'`),
    );
  });
}

test('torch checkpoint: non-zip input is a typed error naming the file', () => {
  const path = formatsPath('dtypes.safetensors');
  assert.throws(() => loadTorchCheckpoint(path), (err: unknown) => err instanceof TorchCheckpointError && err.file === path && /not a zip archive/.test(err.message));
  const missing = formatsPath('nope.bin');
  assert.throws(() => loadTorchCheckpoint(missing), (err: unknown) => err instanceof TorchCheckpointError && /cannot open/.test(err.message));
});
