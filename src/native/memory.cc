// Tensor storage: 64-byte aligned native buffers exposed to JS as external ArrayBuffers.
// freeBuffer returns the memory at once and detaches the ArrayBuffer, so a stale JS view becomes
// zero-length instead of dangling. V8 runs the ArrayBuffer's finaliser only at GC; the Block it
// receives remembers whether freeBuffer already released the data, so nothing is freed twice and
// a buffer that is never freed explicitly is still released by GC.
// Buffers come from plain malloc, over-allocated by 64 bytes and aligned by hand: Node keeps a
// little bookkeeping per external buffer until the event loop turns, and with aligned_alloc those
// small blocks pinned each freed buffer's hole, which memalign (needing size + alignment) never
// reused, so a synchronous loop grew by the size of every buffer it allocated.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include "napi_util.h"

namespace {

struct Block {
  void* data;  // 64-byte aligned, inside raw
  void* raw;   // what malloc returned
  size_t bytes;
};

std::mutex live_mutex;
std::unordered_map<void*, Block*> live;

void account(napi_env env, int64_t delta) {
  int64_t adjusted;
  napi_adjust_external_memory(env, delta, &adjusted);
}

void finalize(napi_env env, void* /*data*/, void* hint) {
  Block* block = static_cast<Block*>(hint);
  if (block->data != nullptr) {
    {
      std::lock_guard<std::mutex> lock(live_mutex);
      live.erase(block->data);
    }
    std::free(block->raw);
    account(env, -static_cast<int64_t>(block->bytes));
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
  void* raw = std::malloc(rounded + 64);
  void* data = raw == nullptr ? nullptr : reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + 63) & ~uintptr_t(63));
  if (data == nullptr) {
    napi_throw_range_error(env, "ERR_PEFTJS_OOM", "allocBuffer: out of memory");
    return nullptr;
  }
  if (zero) std::memset(data, 0, rounded);
  Block* block = new Block{data, raw, rounded};
  napi_value ab;
  if (napi_create_external_arraybuffer(env, data, nbytes, finalize, block, &ab) != napi_ok) {
    std::free(raw);
    delete block;
    napi_throw_error(env, "ERR_PEFTJS_ALLOC", "allocBuffer: cannot create an external ArrayBuffer");
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    live[data] = block;
  }
  account(env, static_cast<int64_t>(rounded));
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
    std::lock_guard<std::mutex> lock(live_mutex);
    auto it = live.find(data);
    if (it != live.end()) {
      block = it->second;
      live.erase(it);
    }
  }
  napi_detach_arraybuffer(env, a.argv[0]);
  if (block != nullptr) {
    std::free(block->raw);
    account(env, -static_cast<int64_t>(block->bytes));
    block->data = nullptr;
  }
  return peftjs::undefined(env);
}

// copyBytes(src, srcOffsetBytes, dst, dstOffsetBytes, nbytes)
PEFTJS_FN(copyBytes) {
  peftjs::Args a(env, info);
  const char* src = a.buf<char>(0) + a.i64(1);
  char* dst = a.buf<char>(2) + a.i64(3);
  std::memmove(dst, src, static_cast<size_t>(a.i64(4)));
  return peftjs::undefined(env);
}
