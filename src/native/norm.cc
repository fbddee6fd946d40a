// Row normalisation over the last dim, forward and backward: layer norm (centred, optional bias)
// and RMS norm (uncentred, no bias) share one kernel. Forward stores each row's mean and rstd;
// backward computes dx row by row and reduces the weight/bias gradients into one partial row per
// chunk of rows, summed at the end. Null buffers (weight, bias, mean, unneeded grads) are skipped.
#include <cmath>
#include <vector>
#include "napi_util.h"
#include "parallel.h"
#include "row_simd.h"

namespace {

// The row functions stay out of line so that their simd reductions vectorise (see row_simd.h).

// y = (x - mean) · rstd · w + b, with mean = 0 when !center
[[gnu::noinline]] void norm_row(const float* x, const float* w, const float* b, float* y, int64_t d, double eps, bool center, float* mean_out, float* rstd_out) {
  const float mean = center ? static_cast<float>(peftjs::row_sum(x, d) / static_cast<double>(d)) : 0.f;
  double ss = 0;
  for (int64_t blk = 0; blk < d; blk += peftjs::kSumBlock) {
    const int64_t e = std::min(d, blk + peftjs::kSumBlock);
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = blk; i < e; i++) s += (x[i] - mean) * (x[i] - mean);
    ss += s;
  }
  const float rstd = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(d) + eps));
  if (w != nullptr && b != nullptr) {
#pragma omp simd
    for (int64_t i = 0; i < d; i++) y[i] = (x[i] - mean) * rstd * w[i] + b[i];
  } else if (w != nullptr) {
#pragma omp simd
    for (int64_t i = 0; i < d; i++) y[i] = (x[i] - mean) * rstd * w[i];
  } else if (b != nullptr) {
#pragma omp simd
    for (int64_t i = 0; i < d; i++) y[i] = (x[i] - mean) * rstd + b[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < d; i++) y[i] = (x[i] - mean) * rstd;
  }
  if (mean_out != nullptr) *mean_out = mean;
  *rstd_out = rstd;
}

struct NormGrads {
  float* dx;
  float* dw;  // partial row of this chunk
  float* db;  // partial row of this chunk
};

// With x̂ = (x - mean)·rstd and u = g·w:  dx = rstd · (u - mean(u) - x̂ · mean(u·x̂))  (layer norm),
// dx = rstd · (u - x̂ · mean(u·x̂))  (RMS norm);  dw += g·x̂;  db += g.
[[gnu::noinline]] void norm_row_backward(const float* g, const float* x, const float* w, float mean, float rstd, int64_t d, bool center, NormGrads out) {
  if (out.dx != nullptr) {
    double su = 0, sux = 0;
    for (int64_t blk = 0; blk < d; blk += peftjs::kSumBlock) {
      const int64_t e = std::min(d, blk + peftjs::kSumBlock);
      float s1 = 0.f, s2 = 0.f;
#pragma omp simd reduction(+ : s1, s2)
      for (int64_t i = blk; i < e; i++) {
        const float u = w != nullptr ? g[i] * w[i] : g[i];
        s1 += u;
        s2 += u * (x[i] - mean) * rstd;
      }
      su += s1;
      sux += s2;
    }
    const float mu = center ? static_cast<float>(su / static_cast<double>(d)) : 0.f;
    const float mux = static_cast<float>(sux / static_cast<double>(d));
#pragma omp simd
    for (int64_t i = 0; i < d; i++) {
      const float u = w != nullptr ? g[i] * w[i] : g[i];
      out.dx[i] = rstd * (u - mu - (x[i] - mean) * rstd * mux);
    }
  }
  if (out.dw != nullptr) {
#pragma omp simd
    for (int64_t i = 0; i < d; i++) out.dw[i] += g[i] * (x[i] - mean) * rstd;
  }
  if (out.db != nullptr) {
#pragma omp simd
    for (int64_t i = 0; i < d; i++) out.db[i] += g[i];
  }
}

// Row chunks for the backward: one per thread, so each partial weight-gradient row sums
// rows / threads rows.
int64_t chunk_count(int64_t rows, int64_t d) {
  if (rows * d < 32768) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), rows));
}

}  // namespace

// normForward(x, weight|null, bias|null, y, mean|null, rstd, rows, d, eps, center)
PEFTJS_FN(normForward) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  const float* w = a.f32(1);
  const float* b = a.f32(2);
  float* y = a.f32(3);
  float* mean = a.f32(4);
  float* rstd = a.f32(5);
  const int64_t rows = a.i64(6), d = a.i64(7);
  const double eps = a.f64(8);
  const bool center = a.flag(9);
  peftjs::parallel_for(rows, 4 * d, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++)
      norm_row(x + r * d, w, b, y + r * d, d, eps, center, mean != nullptr ? mean + r : nullptr, rstd + r);
  });
  return peftjs::undefined(env);
}

// normBackward(g, x, weight|null, mean|null, rstd, dx|null, dw|null, db|null, rows, d, center)
PEFTJS_FN(normBackward) {
  peftjs::Args a(env, info);
  const float* g = a.f32(0);
  const float* x = a.f32(1);
  const float* w = a.f32(2);
  const float* mean = a.f32(3);
  const float* rstd = a.f32(4);
  float* dx = a.f32(5);
  float* dw = a.f32(6);
  float* db = a.f32(7);
  const int64_t rows = a.i64(8), d = a.i64(9);
  const bool center = a.flag(10);
  const int64_t chunks = chunk_count(rows, d);
  std::vector<float> dw_part(dw != nullptr ? chunks * d : 0, 0.f);
  std::vector<float> db_part(db != nullptr ? chunks * d : 0, 0.f);
  peftjs::parallel_for(chunks, rows * d / chunks * 6, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; c++) {
      const int64_t r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks;
      for (int64_t r = r0; r < r1; r++) {
        NormGrads out{dx != nullptr ? dx + r * d : nullptr, dw != nullptr ? dw_part.data() + c * d : nullptr,
                      db != nullptr ? db_part.data() + c * d : nullptr};
        norm_row_backward(g + r * d, x + r * d, w, mean != nullptr ? mean[r] : 0.f, rstd[r], d, center, out);
      }
    }
  });
  for (auto [total, part] : {std::pair{dw, &dw_part}, std::pair{db, &db_part}}) {
    if (total == nullptr) continue;
    for (int64_t i = 0; i < d; i++) {
      float s = 0.f;
      for (int64_t c = 0; c < chunks; c++) s += (*part)[c * d + i];
      total[i] = s;
    }
  }
  return peftjs::undefined(env);
}
