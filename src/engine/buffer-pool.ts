// Small released buffers kept on the JavaScript side for reuse. A decoding step makes hundreds of
// tensors of a few KB; taking one of the same byte length from here costs a Map lookup, where a new
// native buffer costs an external ArrayBuffer, its finaliser and an allocation (about 2 µs each).
// Only buffers up to MAX_BUFFER_BYTES are kept, at most PER_LENGTH per length and `limitBytes` in
// all; the rest go back to the native allocator. A pooled buffer stays attached: a typed-array view
// kept past its tensor's dispose() sees the next owner's data, so views must not outlive tensors.
import { native } from '../native/binding.js';

const MAX_BUFFER_BYTES = 64 * 1024;
const PER_LENGTH = 16;
const DEFAULT_LIMIT_BYTES = 8 * 1024 * 1024;

const pool = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;
let limitBytes = DEFAULT_LIMIT_BYTES;

/** A pooled buffer of exactly `bytes` bytes (zero-filled when asked), or null when there is none. */
export function takePooled(bytes: number, zero: boolean): ArrayBuffer | null {
  const buffer = pool.get(bytes)?.pop();
  if (buffer === undefined) return null;
  pooledBytes -= bytes;
  if (zero) new Uint8Array(buffer).fill(0);
  return buffer;
}

/** Keeps `buffer` for reuse when there is room, else frees it. */
export function releaseToPool(buffer: ArrayBuffer, bytes: number): void {
  if (bytes <= MAX_BUFFER_BYTES && pooledBytes + bytes <= limitBytes) {
    let list = pool.get(bytes);
    if (list === undefined) pool.set(bytes, (list = []));
    if (list.length < PER_LENGTH) {
      list.push(buffer);
      pooledBytes += bytes;
      return;
    }
  }
  native.freeBuffer(buffer);
}

/** Frees every pooled buffer; later releases keep at most `limit` bytes (default 8 MB, capped there). */
export function drainPool(limit = limitBytes): void {
  for (const list of pool.values()) for (const buffer of list) native.freeBuffer(buffer);
  pool.clear();
  pooledBytes = 0;
  limitBytes = Math.min(limit, DEFAULT_LIMIT_BYTES);
}
