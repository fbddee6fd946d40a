// Loading torch.save zip checkpoints (pytorch_model.bin, adapter_model.bin) without running
// pickle: `<prefix>/data.pkl` goes through the restricted unpickler, which knows only the globals a
// state dict uses (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter, the typed storage classes);
// storages are the entries `<prefix>/data/<key>`, read only for the tensors that use them. Views
// (storage offset, strides, shared storages) are materialised as row-major copies.
import { Tensor } from '../engine/tensor.js';
import { type ByteSource, openFileSource } from './byte-source.js';
import { decodeTensor, type TensorBytesReader } from './decode.js';
import { elementCount, FILE_DTYPE_BYTES, type FileDType, isEngineLayout, isShape, type RawTensor } from './dtypes.js';
import { TorchCheckpointError, UnsafePickleError } from './errors.js';
import { PickleFunction, unpickle } from './pickle.js';
import { gatherStrided, swapBytes } from './strided.js';
import { ZipArchive, type ZipEntry } from './zip.js';

const STORAGE_DTYPES: Readonly<Record<string, FileDType>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

class StorageType {
  constructor(readonly dtype: FileDType) {}
}

/** A typed storage: the zip entry `<prefix>/data/<key>` holding numel elements. */
class StorageRecord {
  constructor(
    readonly key: string,
    readonly dtype: FileDType,
    readonly numel: number,
    readonly entry: ZipEntry,
  ) {}
}

/** The arguments of a _rebuild_tensor_v2 call, checked when the tensor is materialised. */
class TensorView {
  constructor(
    readonly storage: StorageRecord,
    readonly offset: unknown,
    readonly shape: unknown,
    readonly strides: unknown,
  ) {}
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return 'a list or tuple';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof TensorView) return 'a tensor';
  return `a ${typeof value}`;
}

class CheckpointReader {
  private readonly prefix: string;
  private readonly bigEndian: boolean;

  constructor(
    private readonly source: ByteSource,
    private readonly zip: ZipArchive,
  ) {
    this.prefix = this.findPrefix();
    this.bigEndian = this.byteOrder() === 'big';
  }

  private fail(detail: string, key?: string): never {
    throw new TorchCheckpointError(this.source.name, key, detail);
  }

  private findPrefix(): string {
    const records = [...this.zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (records.length !== 1) {
      this.fail(`holds ${records.length} '<archive>/data.pkl' records; expected exactly one in a torch.save zip checkpoint`);
    }
    return records[0]!.slice(0, -'data.pkl'.length);
  }

  private byteOrder(): 'little' | 'big' {
    const entry = this.zip.entries.get(`${this.prefix}byteorder`);
    if (entry === undefined) return 'little';
    if (entry.size > 16) this.fail(`'${entry.name}' is ${entry.size} bytes; expected 'little' or 'big'`);
    const order = new TextDecoder().decode(this.zip.read(entry));
    if (order !== 'little' && order !== 'big') this.fail(`'${entry.name}' says ${JSON.stringify(order)}; expected 'little' or 'big'`);
    return order;
  }

  private findGlobal(module: string, name: string): unknown {
    const qualified = `${module}.${name}`;
    if (qualified === 'collections.OrderedDict') {
      return new PickleFunction(qualified, (args) => {
        if (args.length !== 0) this.fail('data.pkl builds an OrderedDict from arguments; expected an empty one');
        return new Map();
      });
    }
    if (qualified === 'torch._utils._rebuild_tensor_v2') {
      return new PickleFunction(qualified, (args) => {
        const [storage, offset, shape, strides] = args;
        if (args.length < 6 || args.length > 7 || !(storage instanceof StorageRecord)) {
          this.fail('data.pkl calls _rebuild_tensor_v2 with unexpected arguments');
        }
        return new TensorView(storage, offset, shape, strides);
      });
    }
    if (qualified === 'torch._utils._rebuild_parameter') {
      return new PickleFunction(qualified, (args) => {
        if (args.length !== 3 || !(args[0] instanceof TensorView)) this.fail('data.pkl calls _rebuild_parameter with unexpected arguments');
        return args[0];
      });
    }
    if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) return new StorageType(STORAGE_DTYPES[name]!);
    throw new UnsafePickleError(this.source.name, qualified);
  }

  /** ('storage', <torch.XStorage>, key, location, numel) -> the storage entry, checked against its size. */
  private persistentLoad(pid: unknown): StorageRecord {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage' || !(pid[1] instanceof StorageType) || typeof pid[2] !== 'string' || !Number.isSafeInteger(pid[4]) || (pid[4] as number) < 0) {
      this.fail("data.pkl has a persistent id other than ('storage', type, key, location, numel)");
    }
    const [, type, key, , numel] = pid as [string, StorageType, string, unknown, number];
    const entry = this.zip.entries.get(`${this.prefix}data/${key}`);
    if (entry === undefined) this.fail(`data.pkl refers to storage '${key}', but '${this.prefix}data/${key}' is missing`);
    const bytes = numel * FILE_DTYPE_BYTES[type.dtype];
    if (entry.size !== bytes) this.fail(`storage '${key}' holds ${entry.size} bytes; ${numel} ${type.dtype} elements need ${bytes}`);
    return new StorageRecord(key, type.dtype, numel, entry);
  }

  stateDict(): Map<string, TensorView> {
    const record = this.zip.entries.get(`${this.prefix}data.pkl`)!;
    const root = unpickle(
      this.zip.read(record),
      { findGlobal: (m, n) => this.findGlobal(m, n), persistentLoad: (pid) => this.persistentLoad(pid) },
      (detail) => this.fail(detail),
    );
    if (!(root instanceof Map)) this.fail(`holds ${describe(root)} at the top level; expected a state dict (a dict of tensors)`);
    for (const [key, value] of root) {
      if (typeof key !== 'string') this.fail(`state dict has a key that is ${describe(key)}; expected strings`);
      if (!(value instanceof TensorView)) this.fail(`holds ${describe(value)}; expected a tensor`, key);
    }
    return root as Map<string, TensorView>;
  }

  /** Row-major tensor from a view: read straight from the entry when contiguous, else gathered. */
  materialise(key: string, view: TensorView): Tensor | RawTensor {
    const { storage, offset, shape, strides } = view;
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) this.fail(`has storage offset ${String(offset)}; expected a non-negative integer`, key);
    if (!isShape(shape) || !isShape(strides) || strides.length !== shape.length) {
      this.fail('has a size or stride that is not a list of non-negative integers of the same length', key);
    }
    const start = offset as number;
    const elem = FILE_DTYPE_BYTES[storage.dtype];
    const count = elementCount(shape);
    if (count === undefined) this.fail(`has shape [${shape.join(', ')}] whose size overflows`, key);
    const last = count === 0 ? start : shape.reduce((at, d, i) => at + (d - 1) * strides[i]!, start);
    if (count > 0 && last >= storage.numel) this.fail(`views elements up to ${last} of storage '${storage.key}', which holds ${storage.numel}`, key);
    if (count * elem > Math.max(this.source.size, storage.entry.size)) {
      this.fail(`expands ${storage.numel} stored elements to ${count}, more bytes than the file holds`, key);
    }
    const dtype = storage.dtype;
    let read: TensorBytesReader;
    if (isRowMajor(shape, strides) && !this.bigEndian) {
      read = (at, into) => this.zip.readRange(storage.entry, start * elem + at, into);
    } else {
      const span = new Uint8Array(count === 0 ? 0 : (last - start + 1) * elem);
      this.zip.readRange(storage.entry, start * elem, span);
      const bytes = isRowMajor(shape, strides) ? span : gatherStrided(span, elem, shape, strides);
      if (this.bigEndian) swapBytes(bytes, elem);
      read = (at, into) => into.set(bytes.subarray(at, at + into.length));
    }
    if (isEngineLayout(dtype)) return decodeTensor(dtype, shape, read, { file: this.source.name, key, error: TorchCheckpointError });
    const bytes = new Uint8Array(count * elem);
    read(0, bytes);
    return { dtype, shape: [...shape], bytes };
  }
}

function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/** Reads a torch.save zip checkpoint from any byte source; the source is closed afterwards. */
export function readTorchCheckpoint(source: ByteSource): Map<string, Tensor | RawTensor> {
  const out = new Map<string, Tensor | RawTensor>();
  try {
    const head = new Uint8Array(Math.min(2, source.size));
    source.read(0, head);
    if (head[0] === 0x80) {
      throw new TorchCheckpointError(source.name, undefined, 'is a legacy (pre-zip) torch.save file; only zip checkpoints (PyTorch >= 1.6) are supported');
    }
    const reader = new CheckpointReader(source, ZipArchive.read(source, TorchCheckpointError));
    for (const [key, view] of reader.stateDict()) out.set(key, reader.materialise(key, view));
    return out;
  } catch (err) {
    for (const t of out.values()) if (t instanceof Tensor) t.dispose();
    throw err;
  } finally {
    source.close();
  }
}

/**
 * Loads a torch.save state dict. float32/float16/bfloat16/int32 tensors become engine tensors; the
 * other dtypes (float64, int64, int16, int8, uint8, bool) come back as RawTensor bytes.
 */
export function loadTorchCheckpoint(path: string): Map<string, Tensor | RawTensor> {
  return readTorchCheckpoint(openFileSource(path, TorchCheckpointError));
}
