// Softmax and log-softmax over the middle axis of an [outer, n, inner] view, forward and backward.
// inner = 1 (the last axis) runs fused row passes: softmax takes the max, stores the exps while
// summing them, then normalises; log-softmax takes a one-pass logsumexp, then subtracts it.
// Other axes process an [n, inner] slab at a time with vectors over inner.
#include <cmath>
#include <algorithm>
#include <vector>
#include "napi_util.h"
#include "parallel.h"
#include "row_simd.h"

namespace {

void softmax_row(const float* x, float* y, int64_t n, bool log) {
  if (log) {
    const peftjs::LogSumExp lse = peftjs::row_logsumexp(x, n);
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] - lse.max) - lse.log_sum;
  } else {
    const float inv = static_cast<float>(1.0 / peftjs::row_exp_store(x, n, peftjs::row_max(x, n), y));
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
  }
}

// softmax: dx = y · (g - Σ g·y);  log-softmax: dx = g - exp(y) · Σ g
void softmax_row_backward(const float* g, const float* y, float* dx, int64_t n, bool log) {
  if (log) {
    const float sg = static_cast<float>(peftjs::row_sum(g, n));
#pragma omp simd
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] - peftjs::vm::exp_flush(y[i]) * sg;
  } else {
    const float dot = static_cast<float>(peftjs::row_dot(g, y, n));
#pragma omp simd
    for (int64_t i = 0; i < n; i++) dx[i] = y[i] * (g[i] - dot);
  }
}

// A column range [c0, c1) of an [n, I] slab: the same passes, reducing down the rows with vectors
// over the columns. scratch holds two floats per column.
struct Slab {
  int64_t n, I, c0, c1;
};

void softmax_slab(const float* x, float* y, Slab sl, bool log, float* scratch) {
  const int64_t w = sl.c1 - sl.c0;
  float* m = scratch;
  float* s = scratch + w;
  for (int64_t i = 0; i < w; i++) {
    m[i] = -INFINITY;
    s[i] = 0.f;
  }
  for (int64_t r = 0; r < sl.n; r++) {
    const float* row = x + r * sl.I + sl.c0;
#pragma omp simd
    for (int64_t i = 0; i < w; i++) m[i] = row[i] > m[i] ? row[i] : m[i];
  }
  for (int64_t r = 0; r < sl.n; r++) {
    const float* row = x + r * sl.I + sl.c0;
    float* out = y + r * sl.I + sl.c0;
#pragma omp simd
    for (int64_t i = 0; i < w; i++) {
      const float v = peftjs::vm::exp_flush(row[i] - m[i]);
      out[i] = v;
      s[i] += v;
    }
  }
  for (int64_t i = 0; i < w; i++) s[i] = log ? std::log(s[i]) : 1.f / s[i];
  for (int64_t r = 0; r < sl.n; r++) {
    const float* row = x + r * sl.I + sl.c0;
    float* out = y + r * sl.I + sl.c0;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; i++) out[i] = (row[i] - m[i]) - s[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; i++) out[i] *= s[i];
    }
  }
}

void softmax_slab_backward(const float* g, const float* y, float* dx, Slab sl, bool log, float* acc) {
  const int64_t w = sl.c1 - sl.c0;
  for (int64_t i = 0; i < w; i++) acc[i] = 0.f;
  for (int64_t r = 0; r < sl.n; r++) {
    const float* gr = g + r * sl.I + sl.c0;
    const float* yr = y + r * sl.I + sl.c0;
#pragma omp simd
    for (int64_t i = 0; i < w; i++) acc[i] += log ? gr[i] : gr[i] * yr[i];
  }
  for (int64_t r = 0; r < sl.n; r++) {
    const float* gr = g + r * sl.I + sl.c0;
    const float* yr = y + r * sl.I + sl.c0;
    float* out = dx + r * sl.I + sl.c0;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; i++) out[i] = gr[i] - peftjs::vm::exp_flush(yr[i]) * acc[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; i++) out[i] = yr[i] * (gr[i] - acc[i]);
    }
  }
}

// Runs fn(o, slab) over every outer index and column chunk; when outer is smaller than the thread
// count the columns are split so every thread gets work.
template <typename F>
void for_each_slab(int64_t O, int64_t n, int64_t I, F&& fn) {
  const int64_t T = omp_get_max_threads();
  const int64_t chunks = O >= T ? 1 : std::max<int64_t>(1, std::min<int64_t>((T + O - 1) / O, I / 16));
  peftjs::parallel_for(O * chunks, 8 * n * I / chunks, [&](int64_t b, int64_t e) {
    std::vector<float> scratch(2 * (I / chunks + 1));
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / chunks, c = t % chunks;
      fn(o, Slab{n, I, I * c / chunks, I * (c + 1) / chunks}, scratch.data());
    }
  });
}

}  // namespace

// softmaxForward(x, y, outer, n, inner, log)
PEFTJS_FN(softmaxForward) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  float* y = a.f32(1);
  const int64_t O = a.i64(2), n = a.i64(3), I = a.i64(4);
  const bool log = a.flag(5);
  if (I == 1) {
    peftjs::parallel_for(O, 8 * n, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) softmax_row(x + o * n, y + o * n, n, log);
    });
  } else {
    for_each_slab(O, n, I, [&](int64_t o, Slab sl, float* scratch) {
      softmax_slab(x + o * n * I, y + o * n * I, sl, log, scratch);
    });
  }
  return peftjs::undefined(env);
}

// softmaxBackward(g, y, dx, outer, n, inner, log)
PEFTJS_FN(softmaxBackward) {
  peftjs::Args a(env, info);
  const float* g = a.f32(0);
  const float* y = a.f32(1);
  float* dx = a.f32(2);
  const int64_t O = a.i64(3), n = a.i64(4), I = a.i64(5);
  const bool log = a.flag(6);
  if (I == 1) {
    peftjs::parallel_for(O, 4 * n, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) softmax_row_backward(g + o * n, y + o * n, dx + o * n, n, log);
    });
  } else {
    for_each_slab(O, n, I, [&](int64_t o, Slab sl, float* scratch) {
      softmax_slab_backward(g + o * n * I, y + o * n * I, dx + o * n * I, sl, log, scratch);
    });
  }
  return peftjs::undefined(env);
}
