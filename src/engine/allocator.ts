// Controls of the native allocator's cache of released buffers (exact-size reuse of warm memory).
import { native } from '../native/binding.js';

export interface AllocatorStats {
  /** Native buffers currently held by tensors. */
  liveBuffers: number;
  /** Bytes of released buffers kept for reuse. */
  cachedBytes: number;
}

export function allocatorStats(): AllocatorStats {
  const [liveBuffers, cachedBytes] = native.allocatorStats();
  return { liveBuffers, cachedBytes };
}

/** Bounds the cache of released buffers (0 turns caching off). PEFTJS_ALLOC_CACHE_MB sets it at load. */
export function setAllocatorCacheLimit(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`setAllocatorCacheLimit: bytes must be a non-negative integer, got ${bytes}`);
  native.setAllocatorCacheLimit(bytes);
}

/** Returns every cached buffer to the operating system. */
export function emptyAllocatorCache(): void {
  native.emptyAllocatorCache();
}

const fromEnv = process.env.PEFTJS_ALLOC_CACHE_MB;
if (fromEnv !== undefined && fromEnv !== '') {
  const mb = Number(fromEnv);
  if (!Number.isFinite(mb) || mb < 0) throw new RangeError(`PEFTJS_ALLOC_CACHE_MB must be a non-negative number, got '${fromEnv}'`);
  native.setAllocatorCacheLimit(Math.floor(mb * 1024 * 1024));
}
