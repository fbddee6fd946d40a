// Counter-based random numbers: value i of a stream is a hash of (seed, counter + i), so fills are
// reproducible, parallel, and independent of the thread count.
#include <cmath>
#include "napi_util.h"
#include "parallel.h"
#include "random.h"

// fillUniform(buf, n, seedHi, seedLo, counter, low, high)
PEFTJS_FN(fillUniform) {
  peftjs::Args a(env, info);
  float* out = a.f32(0);
  const int64_t n = a.i64(1);
  const uint64_t seed = peftjs::join_seed(a.i64(2), a.i64(3));
  const uint64_t counter = static_cast<uint64_t>(a.i64(4));
  const float low = static_cast<float>(a.f64(5)), high = static_cast<float>(a.f64(6));
  peftjs::parallel_for(n, 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) out[i] = low + (high - low) * peftjs::uniform01(seed, counter + i);
  });
  return peftjs::undefined(env);
}

// fillNormal(buf, n, seedHi, seedLo, counter, mean, std): Box-Muller on two draws per value.
PEFTJS_FN(fillNormal) {
  peftjs::Args a(env, info);
  float* out = a.f32(0);
  const int64_t n = a.i64(1);
  const uint64_t seed = peftjs::join_seed(a.i64(2), a.i64(3));
  const uint64_t counter = static_cast<uint64_t>(a.i64(4));
  const double mean = a.f64(5), stddev = a.f64(6);
  peftjs::parallel_for(n, 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
      const uint64_t c = counter + 2 * static_cast<uint64_t>(i);
      const double u1 = 1.0 - peftjs::uniform01_f64(seed, c);
      const double u2 = peftjs::uniform01_f64(seed, c + 1);
      out[i] = static_cast<float>(mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    }
  });
  return peftjs::undefined(env);
}
