// Writing safetensors files byte-for-byte as the Python `safetensors` library does: tensors ordered
// by dtype (widest first, in the reference implementation's dtype order) then by name (UTF-8 bytes),
// packed back to back; compact JSON header with `__metadata__` first; header padded with spaces to
// a multiple of 8 bytes. The file is written atomically.
import { DTYPE_BYTES } from '../engine/dtype.js';
import { Tensor } from '../engine/tensor.js';
import { writeAll, writeFileAtomic } from './atomic-write.js';
import { elementCount, FILE_DTYPE_BYTES, FILE_DTYPE_OF, type FileDType, isRawTensor, isShape, type RawTensor } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { METADATA_KEY } from './safetensors-header.js';

/** Position of each dtype in the reference implementation's dtype enumeration, which orders the data. */
const DTYPE_RANK: Readonly<Record<FileDType, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 3,
  F16: 4,
  BF16: 5,
  I32: 6,
  F32: 7,
  F64: 8,
  I64: 9,
};

export type SaveableTensor = Tensor | RawTensor;

interface PendingTensor {
  name: string;
  utf8: Buffer;
  dtype: FileDType;
  shape: readonly number[];
  bytes: Uint8Array;
}

function pending(file: string, name: string, value: SaveableTensor): PendingTensor {
  if (name === METADATA_KEY) throw new SafetensorsError(file, name, 'is reserved for the metadata map and cannot name a tensor');
  const utf8 = Buffer.from(name, 'utf8');
  if (value instanceof Tensor) {
    value.assertAlive('saveSafetensors', name);
    const bytes = new Uint8Array(value.buffer, 0, value.size * DTYPE_BYTES[value.dtype]);
    return { name, utf8, dtype: FILE_DTYPE_OF[value.dtype], shape: value.shape, bytes };
  }
  if (!isRawTensor(value)) throw new SafetensorsError(file, name, 'must be a Tensor or a RawTensor {dtype, shape, bytes}');
  if (!isShape(value.shape)) throw new SafetensorsError(file, name, `has shape ${String(value.shape)}; expected non-negative integers`);
  const count = elementCount(value.shape);
  const expected = count === undefined ? undefined : count * FILE_DTYPE_BYTES[value.dtype];
  if (value.bytes.length !== expected) {
    throw new SafetensorsError(file, name, `holds ${value.bytes.length} bytes but ${value.dtype} [${value.shape.join(', ')}] needs ${expected ?? 'more than 2^53'}`);
  }
  return { name, utf8, dtype: value.dtype, shape: value.shape, bytes: value.bytes };
}

function metadataJson(file: string, metadata: Record<string, string>): string {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new SafetensorsError(file, METADATA_KEY, 'must be an object mapping strings to strings');
  }
  const fields = Object.entries(metadata).map(([k, v]) => {
    if (typeof v !== 'string') throw new SafetensorsError(file, METADATA_KEY, `entry '${k}' must be a string, got ${typeof v}`);
    return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  });
  return `{${fields.join(',')}}`;
}

/** Header bytes (JSON padded with spaces to a multiple of 8) for tensors already in file order. */
function encodeHeader(file: string, tensors: readonly PendingTensor[], metadata: Record<string, string> | undefined): Buffer {
  const fields: string[] = [];
  if (metadata !== undefined) fields.push(`"${METADATA_KEY}":${metadataJson(file, metadata)}`);
  let offset = 0;
  for (const t of tensors) {
    const end = offset + t.bytes.length;
    fields.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${fields.join(',')}}`, 'utf8');
  const padding = (8 - (json.length % 8)) % 8;
  return Buffer.concat([json, Buffer.alloc(padding, 0x20)]);
}

/** Writes `tensors` (engine tensors or raw bytes of any file dtype) and optional string metadata. */
export function saveSafetensors(
  path: string,
  tensors: Record<string, SaveableTensor> | ReadonlyMap<string, SaveableTensor>,
  metadata?: Record<string, string>,
): void {
  const named = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const ordered = named
    .map(([name, value]) => pending(path, name, value))
    .sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || Buffer.compare(a.utf8, b.utf8));
  const header = encodeHeader(path, ordered, metadata);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileAtomic(
    path,
    (fd) => {
      writeAll(fd, length);
      writeAll(fd, header);
      for (const t of ordered) writeAll(fd, t.bytes);
    },
    SafetensorsError,
  );
}
