import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SafetensorsError, SafetensorsFile } from '../../src/io/index.js';
import { assertRawMatches, assertTensorMatches, type FixtureTensors, formatsFixture, formatsPath } from '../helpers/file-fixtures.js';
import { withTempDir } from '../helpers/temp-dir.js';

type Described = Record<string, { metadata: Record<string, string> | null; tensors: FixtureTensors }>;
const described = formatsFixture<Described>('safetensors.json');

for (const [name, { metadata, tensors }] of Object.entries(described)) {
  test(`safetensors: reads Python's ${name}.safetensors (keys, metadata, info, raw bytes, tensors)`, () => {
    const file = SafetensorsFile.open(formatsPath(`${name}.safetensors`));
    try {
      assert.deepEqual(file.metadata, metadata ?? undefined);
      assert.deepEqual(file.keys().sort(), Object.keys(tensors).sort());
      for (const [key, expected] of Object.entries(tensors)) {
        const info = file.info(key);
        assert.equal(info.dtype, expected.dtype, key);
        assert.deepEqual(info.shape, expected.shape, key);
        assertRawMatches(file.readRaw(key), expected, key);
        if (key === 'i64_wide') continue;
        const t = file.readTensor(key);
        assert.equal(info.byteLength, file.readRaw(key).bytes.length);
        assertTensorMatches(t, expected, key);
        t.dispose();
      }
    } finally {
      file.close();
    }
  });
}

test('safetensors: readTensor picks engine dtypes (F64 -> float32, integers -> int32) unless asked', () => {
  const file = SafetensorsFile.open(formatsPath('dtypes.safetensors'));
  const dtypeOf = (key: string, options = {}) => {
    const t = file.readTensor(key, options);
    t.dispose();
    return t.dtype;
  };
  assert.deepEqual(
    ['f64', 'f32', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'bool'].map((k) => dtypeOf(k)),
    ['float32', 'float32', 'float16', 'bfloat16', 'int32', 'int32', 'int32', 'int32', 'int32', 'int32'],
  );
  assert.equal(dtypeOf('bf16', { dtype: 'float32' }), 'float32');
  assert.equal(dtypeOf('f64', { dtype: 'bfloat16' }), 'bfloat16');
  assert.equal(dtypeOf('u8', { dtype: 'float32' }), 'float32');
  const asF32 = file.readTensor('bf16', { dtype: 'float32' });
  assertTensorMatches(asF32, described.dtypes!.tensors.bf16!, 'bf16 as float32');
  asF32.dispose();
  file.close();
});

test('safetensors: typed errors name the file and tensor', () => {
  const path = formatsPath('dtypes.safetensors');
  const file = SafetensorsFile.open(path);
  const fails = (fn: () => unknown, pattern: RegExp, where = path) =>
    assert.throws(fn, (err: unknown) => err instanceof SafetensorsError && err.file === where && err.message.startsWith(where) && pattern.test(err.message));
  fails(() => file.readTensor('i64_wide'), /'i64_wide'.*1099511627776, outside the int32 range/);
  fails(() => file.readTensor('f32', { dtype: 'int32' }), /'f32'.*would truncate/);
  fails(() => file.readTensor('f32', { dtype: 'float64' as never }), /'f32'.*cannot be read as 'float64'/);
  fails(() => file.info('missing'), /'missing': no such tensor/);
  file.close();
  fails(() => file.readRaw('f32'), /is closed/);
  const missing = formatsPath('does-not-exist.safetensors');
  fails(() => SafetensorsFile.open(missing), /cannot open \(ENOENT/, missing);
  fails(() => SafetensorsFile.open(formatsPath('sharded')), /is not a regular file/, formatsPath('sharded'));
});

test('safetensors: a name given twice in the header is refused, not read with the last entry\'s dtype', () => {
  const header = Buffer.from('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}}');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  const bytes = Buffer.concat([length, header, Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]);
  assert.throws(() => SafetensorsFile.fromBytes(bytes, 'twice'), /^SafetensorsError: twice: 'a': appears more than once in the header/);
  const escaped = Buffer.from(header.toString().replace('"a":{"dtype":"I32"', '"\\u0061":{"dtype":"I32"'));
  length.writeBigUInt64LE(BigInt(escaped.length));
  assert.throws(() => SafetensorsFile.fromBytes(Buffer.concat([length, escaped, bytes.subarray(8 + header.length)]), 'escaped'), /'a': appears more than once/);
  const nested = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}';
  length.writeBigUInt64LE(BigInt(nested.length));
  const file = SafetensorsFile.fromBytes(Buffer.concat([length, Buffer.from(nested), bytes.subarray(8 + header.length)]), 'nested');
  assert.deepEqual([...file.readTensor('a').data()], [1, 2, 3, 4]);
});

test('safetensors: a FIFO is refused at once instead of waiting for a writer', () =>
  withTempDir((dir) => {
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    const script = `import('${pathToFileURL(join(process.cwd(), 'dist/src/io/index.js')).href}').then((io) => { try { io.SafetensorsFile.open(${JSON.stringify(fifo)}); } catch (e) { console.log(e.message); } })`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.signal, null, 'opening the FIFO did not return');
    assert.match(child.stdout, /pipe\.safetensors: is not a regular file/);
  }));

test('safetensors: fromBytes validates exactly like open', () => {
  const bytes = readFileSync(formatsPath('edge.safetensors'));
  const file = SafetensorsFile.fromBytes(bytes, 'edge-in-memory');
  assert.equal(file.readTensor('scalar').item(), 2.5);
  assert.throws(() => SafetensorsFile.fromBytes(bytes.subarray(0, bytes.length - 1), 'cut'), /^SafetensorsError: cut: tensors cover \d+ bytes but the data section holds/);
});
