// Dropout from the counter-based hash of random.h: element i is kept when the uniform draw for
// (seed, counter + i) is >= p. The backward calls the same kernel on the upstream gradient with the
// forward's counter, so the mask is regenerated instead of stored.
#include "vector_width.h"
#include "napi_util.h"
#include "parallel.h"
#include "random.h"

namespace {

void dropout_range(const float* __restrict__ src, float* __restrict__ dst, int64_t begin, int64_t end,
                   uint64_t seed, uint64_t counter, float p, float scale) {
  for (int64_t i = begin; i < end; i++) dst[i] = peftjs::uniform01(seed, counter + i) >= p ? src[i] * scale : 0.f;
}

}  // namespace

// dropoutApply(src, dst, n, seedHi, seedLo, counter, p, scale): dst = kept ? src·scale : 0
PEFTJS_FN(dropoutApply) {
  peftjs::Args a(env, info);
  const float* src = a.f32(0);
  float* dst = a.f32(1);
  const int64_t n = a.i64(2);
  const uint64_t seed = peftjs::join_seed(a.i64(3), a.i64(4));
  const uint64_t counter = static_cast<uint64_t>(a.i64(5));
  const float p = static_cast<float>(a.f64(6)), scale = static_cast<float>(a.f64(7));
  peftjs::parallel_for(n, 4, [&](int64_t b, int64_t e) { dropout_range(src, dst, b, e, seed, counter, p, scale); });
  return peftjs::undefined(env);
}
