// Mutates valid safetensors files in memory (truncation, header length, offsets, dtypes, shapes,
// JSON, random bytes) and checks that every case either loads or fails with a SafetensorsError
// naming the file, without reading more bytes than the file holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsError, SafetensorsFile } from '../../src/io/index.js';
import { formatsPath } from '../helpers/file-fixtures.js';
import { assertNamesFile, flipBytes, pick, type Random, randomInt, seededRandom, spliceBytes, truncate } from '../helpers/fuzz.js';
import { withTempDir } from '../helpers/temp-dir.js';

const CASES = 12_000;
const seeds = ['dtypes.safetensors', 'edge.safetensors', 'no-tensors.safetensors', 'sharded/model-00003-of-00003.safetensors'].map((f) => new Uint8Array(readFileSync(formatsPath(f))));

interface Parsed {
  header: Record<string, unknown>;
  data: Uint8Array;
}

function split(file: Uint8Array): Parsed {
  const n = Number(Buffer.from(file).readBigUInt64LE(0));
  return { header: JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString('utf8')), data: file.subarray(8 + n) };
}

function join8(headerText: string, data: Uint8Array, pad = true): Uint8Array {
  let json = Buffer.from(headerText, 'utf8');
  if (pad) json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

const HUGE = [2 ** 31, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53 + 2, 1e20, -1, 1.5, '3', null];
const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'U16', 'F8_E4M3', '', 'f32', 7, null];
const SHAPES = [[], [0], [1], [2 ** 31, 2 ** 31], [2 ** 26, 2 ** 26, 2 ** 26], [2 ** 53, 3], [1e20], [-1], [1.5], '3', [[2]], null];

/** A header-aware mutation: edits one field of the JSON and re-encodes the header. */
function mutateHeader(rand: Random, file: Uint8Array): Uint8Array {
  const { header, data } = split(file);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = names.length > 0 ? pick(rand, names) : 'x';
  const entry = (header[name] ?? {}) as Record<string, unknown>;
  const offsets = Array.isArray(entry.data_offsets) ? [...(entry.data_offsets as number[])] : [0, 0];
  switch (randomInt(rand, 10)) {
    case 0: offsets[randomInt(rand, 2)]! += pick(rand, [-8, -1, 1, 2, 8, 4096]); entry.data_offsets = offsets; break;
    case 1: entry.data_offsets = [offsets[0], pick(rand, HUGE)]; break;
    case 2: {
      const other = header[pick(rand, names.length > 0 ? names : ['x'])] as Record<string, unknown> | undefined;
      if (other) [entry.data_offsets, other.data_offsets] = [other.data_offsets, entry.data_offsets];
      break;
    }
    case 3: entry.dtype = pick(rand, DTYPES); break;
    case 4: entry.shape = pick(rand, SHAPES); break;
    case 5: delete entry[pick(rand, ['dtype', 'shape', 'data_offsets'])]; break;
    case 6: header.__metadata__ = pick(rand, [{ a: 1 }, [], 'x', null, { format: 'pt' }, { k: { nested: 'v' } }]); break;
    case 7: if (rand() < 0.5) delete header[name]; else header[`${name}.copy`] = { ...entry }; break;
    case 8: header[name] = pick(rand, [[], 5, null, 'F32', { dtype: 'F32' }]); break;
    default: return join8(pick(rand, ['[]', 'null', '1', '"x"', '{', '{"a":', '', '\ufeff{}', '{}x']), data);
  }
  header[name] = entry;
  return join8(JSON.stringify(header), data, rand() < 0.9);
}

function mutateLength(rand: Random, file: Uint8Array): Uint8Array {
  const out = Buffer.from(file);
  const n = out.readBigUInt64LE(0);
  const choices = [0n, 1n, 7n, n - 1n, n + 1n, n + 8n, BigInt(file.length - 8), BigInt(file.length), 100_000_001n, 2n ** 53n, 2n ** 64n - 1n, BigInt(randomInt(rand, 2 ** 31))];
  const v = pick(rand, choices);
  out.writeBigUInt64LE(v < 0n ? 0n : v);
  return out;
}

function headerEnd(file: Uint8Array): number {
  return 8 + Number(Buffer.from(file).readBigUInt64LE(0));
}

type Outcome = 'loaded' | 'rejected';

/** Opens and reads every tensor; returns whether the file loaded, asserting every error is typed. */
function exercise(open: () => SafetensorsFile, name: string, size: number, label: string): Outcome {
  let file: SafetensorsFile;
  try {
    file = open();
  } catch (err) {
    assertNamesFile(err, name, label);
    assert.ok(err instanceof SafetensorsError, label);
    return 'rejected';
  }
  try {
    for (const key of file.keys()) {
      const info = file.info(key);
      assert.ok(info.byteLength <= size, `${label}: ${key} claims ${info.byteLength} bytes of a ${size}-byte file`);
      assert.equal(file.readRaw(key).bytes.length, info.byteLength, label);
      try {
        file.readTensor(key).dispose();
      } catch (err) {
        assertNamesFile(err, name, label);
        assert.match((err as Error).message, /outside the int32 range/, label);
      }
    }
  } finally {
    file.close();
  }
  return 'loaded';
}

test(`safetensors fuzz: ${CASES} mutated files load or fail with a typed error naming the file`, () => {
  const rand = seededRandom(20240601);
  const outcomes = { loaded: 0, rejected: 0 };
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const seed = pick(rand, seeds);
    const kind = randomInt(rand, 7);
    const mutated = [
      () => truncate(rand, seed),
      () => mutateLength(rand, seed),
      () => mutateHeader(rand, seed),
      () => mutateHeader(rand, seed),
      () => flipBytes(rand, seed, 8, headerEnd(seed)),
      () => flipBytes(rand, seed),
      () => spliceBytes(rand, seed),
    ][kind]!();
    const name = `case-${i}.safetensors`;
    outcomes[exercise(() => SafetensorsFile.fromBytes(mutated, name), name, mutated.length, `case ${i} (kind ${kind})`)]++;
  }
  assert.ok(outcomes.loaded > 100 && outcomes.rejected > CASES / 2, `outcomes ${JSON.stringify(outcomes)}`);
  assert.ok(Date.now() - started < 20_000, 'the fuzz loop should take seconds');
});

test('safetensors fuzz: flipping data bytes (a benign mutation) still loads, with the flipped bytes', () => {
  const rand = seededRandom(7);
  const seed = seeds[0]!;
  const { header } = split(seed);
  const start = headerEnd(seed);
  for (let i = 0; i < 500; i++) {
    const mutated = flipBytes(rand, seed, start);
    const file = SafetensorsFile.fromBytes(mutated, 'benign');
    for (const [key, entry] of Object.entries(header)) {
      if (key === '__metadata__') continue;
      const [begin, end] = (entry as { data_offsets: [number, number] }).data_offsets;
      assert.deepEqual(file.readRaw(key).bytes, mutated.subarray(start + begin, start + end), key);
    }
    file.close();
  }
});

test('safetensors fuzz: mutated files on disk go through the same validation', () => {
  withTempDir((dir) => {
    const rand = seededRandom(99);
    for (let i = 0; i < 300; i++) {
      const seed = pick(rand, seeds);
      const mutated = pick(rand, [truncate, mutateLength, mutateHeader, flipBytes])(rand, seed);
      const path = join(dir, `case-${i}.safetensors`);
      writeFileSync(path, mutated);
      exercise(() => SafetensorsFile.open(path), path, mutated.length, `disk case ${i}`);
    }
  });
});
