// Controls of the native allocator's cache of released buffers (exact-size reuse of warm memory).
import { native } from '../native/binding.js';
import { drainPool } from './buffer-pool.js';

export interface AllocatorStats {
  /** Native buffers currently held by tensors. */
  liveBuffers: number;
  /** Bytes of released buffers kept for reuse. */
  cachedBytes: number;
  /** Bytes held by live buffers (rounded up to 64), and the highest that has been since the last emptyAllocatorCache. */
  liveBytes: number;
  peakLiveBytes: number;
}

export function allocatorStats(): AllocatorStats {
  const [liveBuffers, cachedBytes, liveBytes, peakLiveBytes] = native.allocatorStats();
  return { liveBuffers, cachedBytes, liveBytes, peakLiveBytes };
}

/**
 * A fixed bound on the cache of released buffers (0 turns caching off), besides the one it always keeps: at most
 * the larger of 1 GiB and what leaves live + cached bytes under 9/8 of the peak of live bytes (docs/engine.md).
 * PEFTJS_ALLOC_CACHE_MB sets it at load.
 */
export function setAllocatorCacheLimit(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`setAllocatorCacheLimit: bytes must be a non-negative integer, got ${bytes}`);
  drainPool(bytes);
  native.setAllocatorCacheLimit(bytes);
}

/** Returns every cached buffer to the operating system and lowers the peak to the bytes live now. */
export function emptyAllocatorCache(): void {
  drainPool();
  native.emptyAllocatorCache();
}

const fromEnv = process.env.PEFTJS_ALLOC_CACHE_MB;
if (fromEnv !== undefined && fromEnv !== '') {
  const mb = Number(fromEnv);
  if (!Number.isFinite(mb) || mb < 0) throw new RangeError(`PEFTJS_ALLOC_CACHE_MB must be a non-negative number, got '${fromEnv}'`);
  setAllocatorCacheLimit(Math.floor(mb * 1024 * 1024));
}
