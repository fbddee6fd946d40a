// Byte-level helpers for tensors stored as views: gathering a strided view into row-major order, and
// swapping the byte order of big-endian data.

type Words = Uint8Array | Uint16Array | Uint32Array;

function words(bytes: Uint8Array, wordBytes: number): Words {
  if (wordBytes === 1) return bytes;
  const n = bytes.byteLength / wordBytes;
  return wordBytes === 2 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint32Array(bytes.buffer, bytes.byteOffset, n);
}

/**
 * Copies the view (shape, strides in elements, from element 0 of `span`) into new row-major bytes.
 * `span` must start at a multiple of min(elemBytes, 4) bytes in its buffer; all indices must be in range.
 */
export function gatherStrided(span: Uint8Array, elemBytes: number, shape: readonly number[], strides: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count * elemBytes);
  if (count === 0) return out;
  // 8-byte elements move as two 32-bit words so float bit patterns (NaN payloads) are kept.
  const wordBytes = Math.min(elemBytes, 4);
  const per = elemBytes / wordBytes;
  const src = words(span, wordBytes);
  const dst = words(out, wordBytes);
  const nd = shape.length;
  const inner = nd === 0 ? 1 : shape[nd - 1]!;
  const innerStride = nd === 0 ? 0 : strides[nd - 1]! * per;
  const index = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  let base = 0;
  for (let o = 0; o < count * per; ) {
    for (let i = 0, s = base * per; i < inner; i++, s += innerStride) {
      for (let w = 0; w < per; w++) dst[o++] = src[s + w]!;
    }
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d]!;
      if (++index[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** Reverses the byte order of every elemBytes-sized element, in place. */
export function swapBytes(bytes: Uint8Array, elemBytes: number): void {
  for (let i = 0; i + elemBytes <= bytes.length; i += elemBytes) {
    for (let a = i, b = i + elemBytes - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
