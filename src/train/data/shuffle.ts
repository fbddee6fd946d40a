// Seeded permutations for data order: a permutation depends only on (seed, epoch), so any epoch's
// order can be recomputed to resume from a position. Generator: mulberry32 seeded by a 32-bit mix of
// the seed's two halves and the epoch; shuffle: Fisher–Yates from the last position down.

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function checkSeed(seed: number, what: string): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new TypeError(`${what}: seed must be a non-negative safe integer, got ${seed}`);
}

/** A permutation of 0 … size-1 determined by (seed, epoch). */
export function permutation(size: number, seed: number, epoch = 0): Uint32Array {
  checkSeed(seed, 'permutation');
  const rand = mulberry32(mix(mix(seed >>> 0) ^ Math.floor(seed / 2 ** 32)) ^ mix(epoch + 0x9e3779b9));
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
