// Vectorised passes over one contiguous f32 row, shared by the reduction, softmax, norm and
// cross-entropy kernels. Sums run in f32 SIMD lanes over blocks of 1024 elements and add the block
// sums in double, so long rows (a 50k-word vocabulary) keep full f32 accuracy.
// Functions holding `omp simd reduction` loops are kept out of line: GCC fails to vectorise those
// loops once they are inlined into an enclosing loop nest, and falls back to scalar code.
#pragma once
#include <cmath>
#include <cstdint>
#include <algorithm>
#include "vmath.h"

// GCC's tuning for AVX-512 cores prefers 256-bit vectors; these loops are simple streams that
// gain from the full 512-bit width.
#if defined(__AVX512F__)
#pragma GCC target("prefer-vector-width=512")
#endif

namespace peftjs {

constexpr int64_t kSumBlock = 1024;

// Largest element, ignoring NaN (a NaN in the row still poisons the exp-sum that follows).
[[gnu::noinline]] inline float row_max(const float* x, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

[[gnu::noinline]] inline double row_sum(const float* x, int64_t n) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t e = std::min(n, b + kSumBlock);
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; i++) s += x[i];
    total += s;
  }
  return total;
}

[[gnu::noinline]] inline double row_dot(const float* x, const float* y, int64_t n) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t e = std::min(n, b + kSumBlock);
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; i++) s += x[i] * y[i];
    total += s;
  }
  return total;
}

// Stores exp(x[i] - shift) into out and returns their sum.
[[gnu::noinline]] inline double row_exp_store(const float* x, int64_t n, float shift, float* out) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t e = std::min(n, b + kSumBlock);
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; i++) {
      const float v = vm::exp_flush(x[i] - shift);
      out[i] = v;
      s += v;
    }
    total += s;
  }
  return total;
}

// log Σ exp(x[i]) = max + log_sum, kept apart so that x - max - log_sum loses no precision when
// the logits are large.
struct LogSumExp {
  float max;
  float log_sum;
};

// One pass over memory: each block's max and exp-sum are taken while the block is in L1, and the
// running sum is rescaled whenever the running max grows.
[[gnu::noinline]] inline LogSumExp row_logsumexp(const float* x, int64_t n) {
  float m = -INFINITY;
  double total = 0;
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t e = std::min(n, b + kSumBlock);
    float bm = -INFINITY;
#pragma omp simd reduction(max : bm)
    for (int64_t i = b; i < e; i++) bm = x[i] > bm ? x[i] : bm;
    if (bm > m) {
      if (total != 0) total *= std::exp(static_cast<double>(m) - bm);
      m = bm;
    }
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; i++) s += vm::exp_flush(x[i] - m);
    total += s;
  }
  return {m, std::log(static_cast<float>(total))};
}

}  // namespace peftjs
