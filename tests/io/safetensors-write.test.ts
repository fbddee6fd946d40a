import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromArray, randn, Tensor, toDtype } from '../../src/engine/index.js';
import { type RawTensor, SafetensorsError, SafetensorsFile, saveSafetensors } from '../../src/io/index.js';
import { type FixtureTensors, fixtureTensor, formatsFixture, formatsPath } from '../helpers/file-fixtures.js';
import { withTempDir } from '../helpers/temp-dir.js';

type Described = Record<string, { metadata: Record<string, string> | null; tensors: FixtureTensors }>;
const described = formatsFixture<Described>('safetensors.json');

function bytesOf(t: Tensor): Buffer {
  const elem = t.dtype === 'float16' || t.dtype === 'bfloat16' ? 2 : 4;
  return Buffer.from(t.buffer, 0, t.size * elem);
}

for (const [name, { metadata, tensors }] of Object.entries(described)) {
  test(`safetensors: writer output is byte-identical to Python's save_file for ${name}`, () => {
    withTempDir((dir) => {
      const built = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, fixtureTensor(t)]));
      const out = join(dir, 'out.safetensors');
      saveSafetensors(out, built, metadata ?? undefined);
      assert.deepEqual(readFileSync(out), readFileSync(formatsPath(`${name}.safetensors`)));
      for (const t of Object.values(built)) if (t instanceof Tensor) t.dispose();
    });
  });
}

test('safetensors: engine tensors round-trip through a file bit-exactly', () => {
  withTempDir((dir) => {
    const x = randn([7, 5]);
    const tensors = { x, 'x.bf16': toDtype(x, 'bfloat16'), 'x.f16': toDtype(x, 'float16'), ids: fromArray(new Int32Array([3, -1, 2 ** 31 - 1])) };
    const out = join(dir, 'round.safetensors');
    saveSafetensors(out, tensors, { format: 'pt' });
    const file = SafetensorsFile.open(out);
    assert.deepEqual(file.metadata, { format: 'pt' });
    for (const [key, t] of Object.entries(tensors)) {
      const back = file.readTensor(key);
      assert.equal(back.dtype, t.dtype, key);
      assert.deepEqual(back.shape, t.shape, key);
      assert.deepEqual(bytesOf(back), bytesOf(t), key);
      back.dispose();
    }
    file.close();
  });
});

test('safetensors: writes are atomic and replace an existing file', () => {
  withTempDir((dir) => {
    const out = join(dir, 'adapter_model.safetensors');
    writeFileSync(out, 'old contents');
    const raw: RawTensor = { dtype: 'I8', shape: [3], bytes: new Uint8Array([1, 2, 255]) };
    saveSafetensors(out, { raw });
    assert.deepEqual(readdirSync(dir), ['adapter_model.safetensors']);
    assert.deepEqual(SafetensorsFile.open(out).readRaw('raw').bytes, raw.bytes);
    assert.throws(() => saveSafetensors(out, { bad: { dtype: 'I8', shape: [4], bytes: new Uint8Array(3) } }), SafetensorsError);
    assert.deepEqual(readdirSync(dir), ['adapter_model.safetensors'], 'a failed write leaves no temporary file');
  });
});

test('safetensors: writer rejects bad input with typed errors naming file and key', () => {
  withTempDir((dir) => {
    const out = join(dir, 'bad.safetensors');
    const fails = (fn: () => void, pattern: RegExp, where = out) =>
      assert.throws(fn, (err: unknown) => err instanceof SafetensorsError && err.file === where && pattern.test(err.message));
    fails(() => saveSafetensors(out, { __metadata__: fromArray([1]) }), /'__metadata__': is reserved/);
    fails(() => saveSafetensors(out, { w: { dtype: 'F64', shape: [2], bytes: new Uint8Array(8) } }), /'w': holds 8 bytes but F64 \[2\] needs 16/);
    fails(() => saveSafetensors(out, { w: { dtype: 'F99', shape: [1], bytes: new Uint8Array(8) } as unknown as RawTensor }), /'w': must be a Tensor or a RawTensor/);
    fails(() => saveSafetensors(out, {}, { epoch: 3 } as unknown as Record<string, string>), /'__metadata__': entry 'epoch' must be a string/);
    const disposed = fromArray([1, 2]);
    disposed.dispose();
    assert.throws(() => saveSafetensors(out, { disposed }), /disposed/);
    const nowhere = join(dir, 'missing-folder', 'x.safetensors');
    fails(() => saveSafetensors(nowhere, {}), /cannot write \(ENOENT/, nowhere);
    assert.deepEqual(readdirSync(dir), []);
  });
});
