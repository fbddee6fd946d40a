// Shapes, strides and the other short integer lists the native kernels take. An Int32Array made
// with a few elements lives inside V8's heap, and N-API moves it into a new backing store the first
// time native code reads it. V8 answers a backing-store allocation with a scavenge whenever young
// ArrayBuffers hold more than a few tens of MB, which a training step's tensors always do: ~60
// scavenges per SmolLM-135M step came from these lists alone. Here they are views into 64 KB slabs
// allocated outside the heap once per 16,384 integers. A view is never handed out twice, so a list
// kept for a backward (attention keeps its dims) stays valid; a slab is freed when its last view is.
const SLAB_INTS = 16384;

let slab = new Int32Array(new ArrayBuffer(SLAB_INTS * 4));
let used = 0;

/** `values` as an Int32Array outside V8's heap. */
export function nativeInts(values: ArrayLike<number>): Int32Array {
  const n = values.length;
  if (n > SLAB_INTS) {
    const own = new Int32Array(new ArrayBuffer(n * 4));
    own.set(values);
    return own;
  }
  if (used + n > SLAB_INTS) {
    slab = new Int32Array(new ArrayBuffer(SLAB_INTS * 4));
    used = 0;
  }
  const view = slab.subarray(used, used + n);
  view.set(values);
  used += n;
  return view;
}
