// Mutates torch.save zip checkpoints in memory (truncation, random bytes in the pickle, the zip
// directories and the data, inserted or deleted runs) and checks that every case either loads or
// fails with a TorchCheckpointError naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/engine/index.js';
import { memorySource } from '../../src/io/byte-source.js';
import { type RawTensor, TorchCheckpointError } from '../../src/io/index.js';
import { readTorchCheckpoint } from '../../src/io/torch-checkpoint.js';
import { formatsPath } from '../helpers/file-fixtures.js';
import { assertNamesFile, flipBytes, pick, randomInt, seededRandom, spliceBytes, truncate } from '../helpers/fuzz.js';

const CASES = 4_000;
const seeds = ['state_dict.bin', 'deflated.bin', 'zip64.bin', 'protocol4.bin', 'big_endian.bin'].map((f) => new Uint8Array(readFileSync(formatsPath(f))));
const deflated = seeds[1];
// Deflate expands at most about 1032:1, so only a deflated archive may hold more bytes than its size.
const MAX_DEFLATE_RATIO = 1032;

function byteSize(t: Tensor | RawTensor): number {
  return t instanceof Tensor ? t.size * (t.dtype === 'float16' || t.dtype === 'bfloat16' ? 2 : 4) : t.bytes.length;
}

/** Byte range of the first `<prefix>/data.pkl` payload, where flips exercise the unpickler. */
function pickleRange(file: Uint8Array): [number, number] {
  const text = Buffer.from(file).toString('latin1');
  const at = text.indexOf('data.pkl');
  const stop = text.indexOf('\x2e', at + 8);
  return [at + 8, stop < 0 ? file.length : stop + 1];
}

test(`torch checkpoint fuzz: ${CASES} mutated checkpoints load or fail with a typed error naming the file`, () => {
  const rand = seededRandom(1234);
  const outcomes = { loaded: 0, rejected: 0 };
  for (let i = 0; i < CASES; i++) {
    const seed = pick(rand, seeds);
    const kind = randomInt(rand, 5);
    const mutated = [
      () => truncate(rand, seed),
      () => flipBytes(rand, seed, ...pickleRange(seed)),
      () => flipBytes(rand, seed, Math.max(0, seed.length - 200)),
      () => flipBytes(rand, seed),
      () => spliceBytes(rand, seed),
    ][kind]!();
    const name = `case-${i}.bin`;
    try {
      const loaded = readTorchCheckpoint(memorySource(mutated, name, TorchCheckpointError));
      const limit = seed === deflated ? MAX_DEFLATE_RATIO * mutated.length : mutated.length;
      for (const t of loaded.values()) {
        assert.ok(byteSize(t) <= limit, `case ${i}: a ${byteSize(t)}-byte tensor from a ${mutated.length}-byte file`);
        if (t instanceof Tensor) t.dispose();
      }
      outcomes.loaded++;
    } catch (err) {
      assertNamesFile(err, name, `case ${i} (kind ${kind})`);
      outcomes.rejected++;
    }
  }
  assert.ok(outcomes.loaded > 100 && outcomes.rejected > CASES / 4, `outcomes ${JSON.stringify(outcomes)}`);
});
