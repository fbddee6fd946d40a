// The positions torch.topk(largest=True, sorted=True) picks on CPU, ties included: ATen's topk_impl_loop fills a queue
// of (value, index) pairs in index order, then runs std::partial_sort when k·64 <= n, else std::nth_element at k-1
// followed by std::sort of the first k-1 entries. Which of several equal values is kept, and in which order, is
// decided by those algorithms' swaps (libstdc++, which torch's Linux wheels use), so they are reproduced step by step.
// NaN ranks above every number, as in torch.
import { fromArray } from '../../../engine/ops/creation.js';
import { gather } from '../../../engine/ops/indexing.js';
import type { Tensor } from '../../../engine/tensor.js';

/** Larger first, NaN above every number (ATen's comparator for largest=True). */
type Less = (a: number, b: number) => boolean;

function lg(n: number): number {
  return 31 - Math.clz32(n);
}

/** libstdc++'s heap primitives on q[first, first+len), with positions relative to `first`. */
function pushHeap(q: Int32Array, first: number, hole: number, top: number, value: number, less: Less): void {
  let parent = (hole - 1) >> 1;
  while (hole > top && less(q[first + parent]!, value)) {
    q[first + hole] = q[first + parent]!;
    hole = parent;
    parent = (hole - 1) >> 1;
  }
  q[first + hole] = value;
}

function adjustHeap(q: Int32Array, first: number, hole: number, len: number, value: number, less: Less): void {
  const top = hole;
  let child = hole;
  while (child < (len - 1) >> 1) {
    child = 2 * (child + 1);
    if (less(q[first + child]!, q[first + child - 1]!)) child--;
    q[first + hole] = q[first + child]!;
    hole = child;
  }
  if ((len & 1) === 0 && child === (len - 2) >> 1) {
    child = 2 * (child + 1);
    q[first + hole] = q[first + child - 1]!;
    hole = child - 1;
  }
  pushHeap(q, first, hole, top, value, less);
}

function popHeap(q: Int32Array, first: number, last: number, result: number, less: Less): void {
  const value = q[result]!;
  q[result] = q[first]!;
  adjustHeap(q, first, 0, last - first, value, less);
}

function heapSelect(q: Int32Array, first: number, middle: number, last: number, less: Less): void {
  const len = middle - first;
  if (len >= 2) {
    for (let parent = (len - 2) >> 1; ; parent--) {
      adjustHeap(q, first, parent, len, q[first + parent]!, less);
      if (parent === 0) break;
    }
  }
  for (let i = middle; i < last; i++) if (less(q[i]!, q[first]!)) popHeap(q, first, middle, i, less);
}

function sortHeap(q: Int32Array, first: number, last: number, less: Less): void {
  while (last - first > 1) {
    last--;
    popHeap(q, first, last, last, less);
  }
}

function swap(q: Int32Array, a: number, b: number): void {
  const t = q[a]!;
  q[a] = q[b]!;
  q[b] = t;
}

function moveMedianToFirst(q: Int32Array, result: number, a: number, b: number, c: number, less: Less): void {
  const [x, y, z] = [q[a]!, q[b]!, q[c]!];
  if (less(x, y)) {
    if (less(y, z)) swap(q, result, b);
    else if (less(x, z)) swap(q, result, c);
    else swap(q, result, a);
  } else if (less(x, z)) swap(q, result, a);
  else if (less(y, z)) swap(q, result, c);
  else swap(q, result, b);
}

function partitionPivot(q: Int32Array, first: number, last: number, less: Less): number {
  moveMedianToFirst(q, first, first + 1, first + ((last - first) >> 1), last - 1, less);
  const pivot = q[first]!;
  let lo = first + 1;
  let hi = last;
  for (;;) {
    while (less(q[lo]!, pivot)) lo++;
    hi--;
    while (less(pivot, q[hi]!)) hi--;
    if (!(lo < hi)) return lo;
    swap(q, lo, hi);
    lo++;
  }
}

function unguardedLinearInsert(q: Int32Array, last: number, less: Less): void {
  const value = q[last]!;
  let next = last - 1;
  while (less(value, q[next]!)) {
    q[last] = q[next]!;
    last = next;
    next--;
  }
  q[last] = value;
}

function insertionSort(q: Int32Array, first: number, last: number, less: Less): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    if (less(q[i]!, q[first]!)) {
      const value = q[i]!;
      q.copyWithin(first + 1, first, i);
      q[first] = value;
    } else {
      unguardedLinearInsert(q, i, less);
    }
  }
}

function nthElement(q: Int32Array, first: number, nth: number, last: number, less: Less): void {
  if (first === last || nth === last) return;
  let depth = lg(last - first) * 2;
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(q, first, nth + 1, last, less);
      swap(q, first, nth);
      return;
    }
    depth--;
    const cut = partitionPivot(q, first, last, less);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(q, first, last, less);
}

function introsortLoop(q: Int32Array, first: number, last: number, depth: number, less: Less): void {
  while (last - first > 16) {
    if (depth === 0) {
      heapSelect(q, first, last, last, less);
      sortHeap(q, first, last, less);
      return;
    }
    depth--;
    const cut = partitionPivot(q, first, last, less);
    introsortLoop(q, cut, last, depth, less);
    last = cut;
  }
}

function sort(q: Int32Array, first: number, last: number, less: Less): void {
  if (first === last) return;
  introsortLoop(q, first, last, lg(last - first) * 2, less);
  if (last - first > 16) {
    insertionSort(q, first, first + 16, less);
    for (let i = first + 16; i < last; i++) unguardedLinearInsert(q, i, less);
  } else {
    insertionSort(q, first, last, less);
  }
}

/** For `rows` rows of `n` values each, the int32 positions [rows, k] torch.topk(values, k) returns on CPU. */
export function torchTopkIndices(values: ArrayLike<number>, rows: number, n: number, k: number): Int32Array {
  const out = new Int32Array(rows * k);
  const q = new Int32Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const less: Less = (a, b) => {
      const x = values[base + a]!;
      const y = values[base + b]!;
      return (Number.isNaN(x) && !Number.isNaN(y)) || x > y;
    };
    for (let j = 0; j < n; j++) q[j] = j;
    if (k * 64 <= n) {
      heapSelect(q, 0, k, n, less);
      sortHeap(q, 0, k, less);
    } else {
      nthElement(q, 0, k - 1, n, less);
      sort(q, 0, k - 1, less);
    }
    out.set(q.subarray(0, k), r * k);
  }
  return out;
}

/** torch.topk(x, k) along the last axis with CPU torch's positions: values (a gather of x, with its gradient) and int32 indices. */
export function torchTopk(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const n = x.shape.at(-1)!;
  const positions = torchTopkIndices(x.data(), x.size / n, n, k);
  const indices = fromArray(positions, [...x.shape.slice(0, -1), k], 'int32');
  return { values: gather(x, -1, indices), indices };
}
