// Contiguous elementwise loops. The per-range helpers take __restrict__ pointers and an inlined
// functor so GCC vectorizes each loop; the kernel bodies unwrap the N-API arguments shared by
// every one-input op and split the range across threads.
#pragma once
#include "napi_util.h"
#include "parallel.h"

namespace peftjs {

template <typename F>
inline void map_range(const float* __restrict__ x, float* __restrict__ out, int64_t begin, int64_t end, F f) {
  for (int64_t i = begin; i < end; i++) out[i] = f(x[i]);
}

template <typename F>
inline void map_range(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                      int64_t begin, int64_t end, F f) {
  for (int64_t i = begin; i < end; i++) out[i] = f(a[i], b[i]);
}

// Kernel body for (x, out, n, ...params): out[i] = f(x[i]). `cost` is a rough per-element cost
// (1 = one arithmetic op) for parallel_for's threshold.
template <typename F>
inline napi_value unary_kernel(const Args& a, int64_t cost, F f) {
  const float* x = a.f32(0);
  float* out = a.f32(1);
  parallel_for(a.i64(2), cost, [&](int64_t b, int64_t e) { map_range(x, out, b, e, f); });
  return undefined(a.env);
}

// Kernel body for (saved, g, gx, n, ...params): gx[i] = f(saved[i], g[i]), where saved is the
// forward op's input or output.
template <typename F>
inline napi_value grad_kernel(const Args& a, int64_t cost, F f) {
  const float* saved = a.f32(0);
  const float* g = a.f32(1);
  float* gx = a.f32(2);
  parallel_for(a.i64(3), cost, [&](int64_t b, int64_t e) { map_range(saved, g, gx, b, e, f); });
  return undefined(a.env);
}

}  // namespace peftjs
