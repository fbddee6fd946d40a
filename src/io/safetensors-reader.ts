// Reading safetensors files lazily: open() parses and validates only the header; each tensor is then
// read on request from its offset, so memory holds only the tensors the caller keeps.
import type { Tensor } from '../engine/tensor.js';
import { type ByteSource, memorySource, openFileSource } from './byte-source.js';
import { decodeTensor } from './decode.js';
import type { RawTensor } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { type HeaderEntry, readHeader } from './safetensors-header.js';
import type { ReadOptions, TensorInfo, TensorReader } from './tensor-reader.js';

export class SafetensorsFile implements TensorReader {
  readonly metadata: Readonly<Record<string, string>> | undefined;
  private readonly entries: Map<string, HeaderEntry>;
  private readonly dataStart: number;

  private constructor(private readonly source: ByteSource) {
    const header = readHeader(source);
    this.metadata = header.metadata;
    this.dataStart = header.dataStart;
    this.entries = new Map(header.entries.map((e) => [e.name, e]));
  }

  private static from(source: ByteSource): SafetensorsFile {
    try {
      return new SafetensorsFile(source);
    } catch (err) {
      source.close();
      throw err;
    }
  }

  /** Opens a file and validates its header; throws SafetensorsError naming the file otherwise. */
  static open(path: string): SafetensorsFile {
    return SafetensorsFile.from(openFileSource(path, SafetensorsError));
  }

  /** Reads safetensors bytes held in memory, through the same validation as open(). */
  static fromBytes(bytes: Uint8Array, name = '<memory>'): SafetensorsFile {
    return SafetensorsFile.from(memorySource(bytes, name, SafetensorsError));
  }

  get path(): string {
    return this.source.name;
  }

  /** Tensor names in file order. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): HeaderEntry {
    const e = this.entries.get(name);
    if (e === undefined) throw new SafetensorsError(this.path, name, 'no such tensor in the file');
    return e;
  }

  info(name: string): TensorInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: [...e.shape], byteLength: e.end - e.begin };
  }

  readRaw(name: string): RawTensor {
    const e = this.entry(name);
    const bytes = new Uint8Array(e.end - e.begin);
    this.source.read(this.dataStart + e.begin, bytes);
    return { dtype: e.dtype, shape: [...e.shape], bytes };
  }

  readTensor(name: string, options: ReadOptions = {}): Tensor {
    const e = this.entry(name);
    const start = this.dataStart + e.begin;
    const read = (offset: number, into: Uint8Array) => this.source.read(start + offset, into);
    return decodeTensor(e.dtype, e.shape, read, { file: this.path, key: name, error: SafetensorsError, dtype: options.dtype });
  }

  close(): void {
    this.source.close();
  }
}
