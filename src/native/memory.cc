// Tensor storage: 64-byte aligned native buffers exposed to JS as external ArrayBuffers.
// freeBuffer returns the memory at once and detaches the ArrayBuffer, so a stale JS view becomes
// zero-length instead of dangling. V8 runs the ArrayBuffer's finaliser only at GC; the Block it
// receives remembers whether freeBuffer already released the data, so nothing is released twice
// and a buffer that is never freed explicitly is still released by GC.
//
// Released blocks of 16 KiB and more go to a cache keyed by exact size: a training step allocates
// the same sizes every time, and reusing warm pages avoids a page fault per 4 KiB on every fresh
// buffer (which costs more than most kernels). Before a request the cache cannot serve is
// malloc'd, cached blocks are freed until the cache holds at most the larger of 1 GiB and what
// live + cached + the request leaves under 9/8 of the highest live total seen so far: a training
// step whose activations pass 1 GiB keeps them all (a fixed 1 GiB cap freed and re-faulted the
// rest every step), and the allocator holds at most max(live + 1 GiB, 9/8 · peak). The eighth
// is room for sizes that are never live at the same moment: a SmolLM-135M step needs 8% above its
// live peak to find every size cached, and without it freed and re-faulted 130 MB per step.
// setAllocatorCacheLimit adds a fixed bound, and emptyAllocatorCache hands everything back to the
// OS and lowers the peak to what is live.
//
// V8 is told about the memory this allocator holds from malloc (live buffers and the cache), not
// about each buffer handed out. V8 itself adds every ArrayBuffer's length to its external-memory
// count when the buffer is made and takes it off when it is detached or collected, and answers
// each 64 MB of growth with a mark-compact GC: a training step that holds 2 GB of activations
// would run dozens of them. So each buffer's own entry is cancelled (subtracted when it is made,
// added back before V8 removes it), and only mallocs and frees from the OS move the count: a step
// that reuses cached buffers leaves it unchanged, while leaked tensors still push it up.
//
// Buffers come from plain malloc, over-allocated by 64 bytes and aligned by hand: Node keeps a
// little bookkeeping per external buffer until the event loop turns, and with aligned_alloc those
// small blocks pinned each freed buffer's hole, which memalign (needing size + alignment) never
// reused, so a synchronous loop grew by the size of every buffer it allocated.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>
#include "napi_util.h"

namespace {

// A malloc'd region and the 64-byte aligned address inside it that tensors use.
struct Region {
  void* raw;
  void* data;
};

struct Block {
  Region region;
  size_t bytes;
  // The ArrayBuffer's length, which V8 counts as external memory while the buffer lives.
  size_t length;
  bool released;
  // Set while Node is making the ArrayBuffer: a refused buffer (one past Node's maximum length) has
  // its finaliser run, at once or later, although allocBuffer reports the failure and cleans up.
  bool creating = false;
  bool finalized_while_creating = false;
  bool orphaned = false;
};

constexpr size_t kMinCachedBytes = 16384;
// The cache may always hold this much: with live + cached capped at the peak alone, a step whose
// mix of sizes differs from the one at the peak evicts blocks it needs again a moment later.
constexpr size_t kAlwaysCachedBytes = size_t(1) << 30;

std::mutex mutex;
std::unordered_map<void*, Block*> live;
std::unordered_map<size_t, std::vector<Region>> cache;
size_t cached_bytes = 0;
size_t cache_limit = SIZE_MAX;
// Bytes of blocks handed out and not yet released, and the highest that total has been.
size_t live_bytes = 0;
size_t peak_live_bytes = 0;

void account(napi_env env, int64_t delta) {
  int64_t adjusted;
  napi_adjust_external_memory(env, delta, &adjusted);
}

Region allocate(size_t bytes) {
  void* raw = std::malloc(bytes + 64);
  if (raw == nullptr) return {nullptr, nullptr};
  return {raw, reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + 63) & ~uintptr_t(63))};
}

// Caller holds the mutex.
bool take_cached(size_t bytes, Region* out) {
  auto it = cache.find(bytes);
  if (it == cache.end() || it->second.empty()) return false;
  *out = it->second.back();
  it->second.pop_back();
  cached_bytes -= bytes;
  return true;
}

// Caller holds the mutex. Returns the bytes handed back to the OS (0 when cached).
size_t give_back(Region region, size_t bytes) {
  if (bytes >= kMinCachedBytes && cached_bytes + bytes <= cache_limit) {
    cache[bytes].push_back(region);
    cached_bytes += bytes;
    return 0;
  }
  std::free(region.raw);
  return bytes;
}

// Caller holds the mutex. Returns the bytes handed back to the OS.
size_t trim_cache(size_t limit) {
  size_t freed = 0;
  for (auto it = cache.begin(); it != cache.end() && cached_bytes > limit;) {
    while (!it->second.empty() && cached_bytes > limit) {
      std::free(it->second.back().raw);
      it->second.pop_back();
      cached_bytes -= it->first;
      freed += it->first;
    }
    it = it->second.empty() ? cache.erase(it) : std::next(it);
  }
  return freed;
}

// Called when V8 collects a buffer that was never freed (and, with nothing left to do, after a
// detach): V8 has taken the length off its count, so it is added back.
void finalize(napi_env env, void* /*data*/, void* hint) {
  Block* block = static_cast<Block*>(hint);
  if (block->creating) {
    block->finalized_while_creating = true;
    return;
  }
  if (block->orphaned) {
    std::free(block->region.raw);
    delete block;
    return;
  }
  if (!block->released) {
    size_t freed;
    {
      std::lock_guard<std::mutex> lock(mutex);
      live.erase(block->region.data);
      live_bytes -= block->bytes;
      freed = give_back(block->region, block->bytes);
    }
    account(env, static_cast<int64_t>(block->length) - static_cast<int64_t>(freed));
  }
  delete block;
}

}  // namespace

// allocBuffer(nbytes, zeroFill) -> ArrayBuffer
PEFTJS_FN(allocBuffer) {
  peftjs::Args a(env, info);
  const size_t nbytes = static_cast<size_t>(a.i64(0));
  const bool zero = a.flag(1);
  size_t rounded = ((nbytes + 63) / 64) * 64;
  if (rounded == 0) rounded = 64;
  Region region{nullptr, nullptr};
  bool cached;
  size_t evicted = 0;
  {
    std::lock_guard<std::mutex> lock(mutex);
    cached = take_cached(rounded, &region);
    if (!cached) {
      const size_t held = peak_live_bytes + peak_live_bytes / 8;
      evicted = trim_cache(std::max(kAlwaysCachedBytes, held > live_bytes + rounded ? held - live_bytes - rounded : 0));
    }
  }
  if (evicted > 0) account(env, -static_cast<int64_t>(evicted));
  if (!cached) region = allocate(rounded);
  if (region.raw == nullptr) {
    size_t freed;
    {
      std::lock_guard<std::mutex> lock(mutex);
      freed = trim_cache(0);
    }
    account(env, -static_cast<int64_t>(freed));
    region = allocate(rounded);
  }
  if (region.raw == nullptr) {
    napi_throw_range_error(env, "ERR_PEFTJS_OOM", "allocBuffer: out of memory");
    return nullptr;
  }
  void* data = region.data;
  if (zero) std::memset(data, 0, rounded);
  Block* block = new Block{region, rounded, nbytes, false};
  napi_value ab;
  block->creating = true;
  const napi_status status = napi_create_external_arraybuffer(env, data, nbytes, finalize, block, &ab);
  block->creating = false;
  if (status != napi_ok) {
    if (cached) account(env, -static_cast<int64_t>(rounded));
    // A finaliser that already ran left the cleanup to us; one still to come will do it itself.
    if (block->finalized_while_creating) {
      std::free(region.raw);
      delete block;
    } else {
      block->orphaned = true;
    }
    // Node may have left its own exception pending; ours replaces it only when none is.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "ERR_PEFTJS_ALLOC", "allocBuffer: cannot create an external ArrayBuffer");
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    live[data] = block;
    live_bytes += rounded;
    peak_live_bytes = std::max(peak_live_bytes, live_bytes);
  }
  account(env, (cached ? 0 : static_cast<int64_t>(rounded)) - static_cast<int64_t>(nbytes));
  return ab;
}

// freeBuffer(ArrayBuffer): releases the memory now; later accesses see a detached, empty buffer.
PEFTJS_FN(freeBuffer) {
  peftjs::Args a(env, info);
  void* data = nullptr;
  size_t len = 0;
  napi_get_arraybuffer_info(env, a.argv[0], &data, &len);
  Block* block = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = live.find(data);
    if (it != live.end()) {
      block = it->second;
      live.erase(it);
      live_bytes -= block->bytes;
    }
  }
  if (block != nullptr) account(env, static_cast<int64_t>(block->length));
  napi_detach_arraybuffer(env, a.argv[0]);
  if (block != nullptr) {
    size_t freed;
    {
      std::lock_guard<std::mutex> lock(mutex);
      freed = give_back(block->region, block->bytes);
    }
    account(env, -static_cast<int64_t>(freed));
    block->released = true;
  }
  return peftjs::undefined(env);
}

// setAllocatorCacheLimit(bytes): bounds the cache of released blocks (0 disables it).
PEFTJS_FN(setAllocatorCacheLimit) {
  peftjs::Args a(env, info);
  size_t freed;
  {
    std::lock_guard<std::mutex> lock(mutex);
    cache_limit = static_cast<size_t>(a.i64(0));
    freed = trim_cache(cache_limit);
  }
  account(env, -static_cast<int64_t>(freed));
  return peftjs::undefined(env);
}

PEFTJS_FN(emptyAllocatorCache) {
  size_t freed;
  {
    std::lock_guard<std::mutex> lock(mutex);
    freed = trim_cache(0);
    peak_live_bytes = live_bytes;
  }
  account(env, -static_cast<int64_t>(freed));
  return peftjs::undefined(env);
}

// allocatorStats() -> [liveBlocks, cachedBytes, liveBytes, peakLiveBytes]
PEFTJS_FN(allocatorStats) {
  std::lock_guard<std::mutex> lock(mutex);
  napi_value arr;
  napi_create_array_with_length(env, 4, &arr);
  napi_set_element(env, arr, 0, peftjs::number(env, static_cast<double>(live.size())));
  napi_set_element(env, arr, 1, peftjs::number(env, static_cast<double>(cached_bytes)));
  napi_set_element(env, arr, 2, peftjs::number(env, static_cast<double>(live_bytes)));
  napi_set_element(env, arr, 3, peftjs::number(env, static_cast<double>(peak_live_bytes)));
  return arr;
}

// copyBytes(src, srcOffsetBytes, dst, dstOffsetBytes, nbytes)
PEFTJS_FN(copyBytes) {
  peftjs::Args a(env, info);
  const char* src = a.buf<char>(0) + a.i64(1);
  char* dst = a.buf<char>(2) + a.i64(3);
  std::memmove(dst, src, static_cast<size_t>(a.i64(4)));
  return peftjs::undefined(env);
}
