// Reading zip archives (as torch.save writes them) from a ByteSource: the central directory is
// parsed from the end of the file (ZIP64 included); entry data is read on demand, stored entries
// straight from their offset, deflated ones through node:zlib.
import { inflateRawSync } from 'node:zlib';
import type { ByteSource, FormatErrorClass } from './byte-source.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const MAX_COMMENT = 0xffff;
const STORED = 0;
const DEFLATED = 8;
// Deflate cannot expand data by more than about 1032:1; a larger claim is corrupt.
const MAX_DEFLATE_RATIO = 1032;

function u64(view: DataView, offset: number): number {
  const v = view.getBigUint64(offset, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dataStarts = new Map<ZipEntry, number>();
  private inflated: { entry: ZipEntry; bytes: Uint8Array } | null = null;

  private constructor(
    private readonly source: ByteSource,
    private readonly error: FormatErrorClass,
  ) {}

  private fail(detail: string, key?: string): never {
    throw new this.error(this.source.name, key, detail);
  }

  private view(offset: number, length: number): DataView {
    const bytes = new Uint8Array(length);
    this.source.read(offset, bytes);
    return new DataView(bytes.buffer);
  }

  /** Parses the central directory; throws (via `error`) when `source` is not a readable zip archive. */
  static read(source: ByteSource, error: FormatErrorClass): ZipArchive {
    const zip = new ZipArchive(source, error);
    const { count, offset, size } = zip.findDirectory();
    zip.readDirectory(count, offset, size);
    return zip;
  }

  private findDirectory(): { count: number; offset: number; size: number } {
    const total = this.source.size;
    if (total < EOCD_BYTES) this.fail('is not a zip archive (too short for an end-of-central-directory record)');
    const tailLength = Math.min(total, EOCD_BYTES + MAX_COMMENT);
    const tailStart = total - tailLength;
    const tail = this.view(tailStart, tailLength);
    let at = -1;
    for (let i = tailLength - EOCD_BYTES; i >= 0; i--) {
      if (tail.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_BYTES + tail.getUint16(i + 20, true) <= tailLength) {
        at = i;
        break;
      }
    }
    if (at < 0) this.fail('is not a zip archive (no end-of-central-directory record)');
    let count = tail.getUint16(at + 10, true);
    let size = tail.getUint32(at + 12, true);
    let offset = tail.getUint32(at + 16, true);
    const locatorAt = at - 20;
    if (locatorAt >= 0 && tail.getUint32(locatorAt, true) === ZIP64_LOCATOR_SIGNATURE) {
      const recordOffset = u64(tail, locatorAt + 8);
      if (recordOffset + 56 > tailStart + locatorAt) this.fail('has a ZIP64 locator pointing outside the archive');
      const record = this.view(recordOffset, 56);
      if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) this.fail('has a ZIP64 locator without a ZIP64 end record');
      count = u64(record, 32);
      size = u64(record, 40);
      offset = u64(record, 48);
    }
    if (offset + size > total) this.fail(`central directory [${offset}, ${offset + size}) runs past the end of the file (${total} bytes)`);
    return { count, offset, size };
  }

  private readDirectory(count: number, offset: number, size: number): void {
    const dir = this.view(offset, size);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > size || dir.getUint32(at, true) !== CENTRAL_SIGNATURE) this.fail(`central directory entry ${i} is malformed`);
      const flags = dir.getUint16(at + 8, true);
      const method = dir.getUint16(at + 10, true);
      let compressedSize = dir.getUint32(at + 20, true);
      let entrySize = dir.getUint32(at + 24, true);
      const nameLength = dir.getUint16(at + 28, true);
      const extraLength = dir.getUint16(at + 30, true);
      const commentLength = dir.getUint16(at + 32, true);
      let localHeaderOffset = dir.getUint32(at + 42, true);
      const next = at + 46 + nameLength + extraLength + commentLength;
      if (next > size) this.fail(`central directory entry ${i} runs past the directory`);
      const nameBytes = new Uint8Array(dir.buffer, at + 46, nameLength);
      const name = new TextDecoder().decode(nameBytes);
      // ZIP64 extra field: 64-bit values for exactly those fields saturated at 0xffffffff.
      for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
        const id = dir.getUint16(e, true);
        const length = dir.getUint16(e + 2, true);
        if (id === 0x0001) {
          let f = e + 4;
          const take = (): number => {
            if (f + 8 > e + 4 + length) this.fail('has a truncated ZIP64 extra field', name);
            const v = u64(dir, f);
            f += 8;
            return v;
          };
          if (entrySize === 0xffffffff) entrySize = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        }
        e += 4 + length;
      }
      if (flags & 1) this.fail('is encrypted', name);
      if (method !== STORED && method !== DEFLATED) this.fail(`uses compression method ${method}; expected stored (0) or deflate (8)`, name);
      if (this.entries.has(name)) this.fail('appears twice in the archive', name);
      this.entries.set(name, { name, method, compressedSize, size: entrySize, localHeaderOffset });
      at = next;
    }
  }

  /** File offset where the entry's (possibly compressed) data starts, checked to lie within the file. */
  private dataOffset(entry: ZipEntry): number {
    const known = this.dataStarts.get(entry);
    if (known !== undefined) return known;
    const fileSize = this.source.size;
    if (entry.localHeaderOffset + 30 > fileSize) this.fail('has a local header outside the file', entry.name);
    const local = this.view(entry.localHeaderOffset, 30);
    if (local.getUint32(0, true) !== LOCAL_SIGNATURE) this.fail('has no local file header at its recorded offset', entry.name);
    const start = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (start + entry.compressedSize > fileSize) this.fail(`data [${start}, ${start + entry.compressedSize}) runs past the end of the file (${fileSize} bytes)`, entry.name);
    if (entry.method === STORED && entry.compressedSize !== entry.size) this.fail('is stored but its compressed and uncompressed sizes differ', entry.name);
    this.dataStarts.set(entry, start);
    return start;
  }

  private inflate(entry: ZipEntry): Uint8Array {
    if (this.inflated?.entry === entry) return this.inflated.bytes;
    if (entry.size > MAX_DEFLATE_RATIO * entry.compressedSize + 64) this.fail(`claims ${entry.size} bytes from ${entry.compressedSize} compressed bytes`, entry.name);
    const compressed = new Uint8Array(entry.compressedSize);
    this.source.read(this.dataOffset(entry), compressed);
    let bytes: Uint8Array;
    try {
      bytes = inflateRawSync(compressed, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') this.fail(`inflates to more than the ${entry.size} bytes it declares`, entry.name);
      this.fail(`holds corrupt deflate data (${(err as Error).message})`, entry.name);
    }
    if (bytes.length !== entry.size) this.fail(`inflates to ${bytes.length} bytes; expected ${entry.size}`, entry.name);
    this.inflated = { entry, bytes };
    return bytes;
  }

  /** Fills `into` with the entry's uncompressed bytes from `offset`. */
  readRange(entry: ZipEntry, offset: number, into: Uint8Array): void {
    if (offset + into.length > entry.size) this.fail(`read of [${offset}, ${offset + into.length}) is outside its ${entry.size} bytes`, entry.name);
    if (entry.method === STORED) this.source.read(this.dataOffset(entry) + offset, into);
    else into.set(this.inflate(entry).subarray(offset, offset + into.length));
  }

  /** The whole uncompressed entry. */
  read(entry: ZipEntry): Uint8Array {
    const bytes = new Uint8Array(entry.size);
    this.readRange(entry, 0, bytes);
    return bytes;
  }

  close(): void {
    this.inflated = null;
    this.source.close();
  }
}
