// Fused softmax cross-entropy over [N, V] logits with int32 targets. Forward: one pass per row
// computes its logsumexp, saved per row as (max, log Σ exp(x - max)); the loss is
// (max - x[target]) + log-sum, and no log-probabilities are materialised. Backward recomputes the
// softmax from the saved pair and writes (softmax - onehot) · scale in one pass per row. Rows
// whose target is ignoreIndex have loss 0 and gradient 0. The targets were range-checked in JS.
#include <cmath>
#include <cstring>
#include "napi_util.h"
#include "parallel.h"
#include "row_simd.h"

// crossEntropyForward(logits, targets, loss, rowStats [N, 2], N, V, ignoreIndex) -> Σ loss (double)
PEFTJS_FN(crossEntropyForward) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  const int32_t* targets = a.i32(1);
  float* loss = a.f32(2);
  float* stats = a.f32(3);
  const int64_t N = a.i64(4), V = a.i64(5), ignore = a.i64(6);
  peftjs::parallel_for(N, 4 * V, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; n++) {
      const float* row = x + n * V;
      const peftjs::LogSumExp lse = peftjs::row_logsumexp(row, V);
      stats[2 * n] = lse.max;
      stats[2 * n + 1] = lse.log_sum;
      loss[n] = targets[n] == ignore ? 0.f : (lse.max - row[targets[n]]) + lse.log_sum;
    }
  });
  double total = 0;
  for (int64_t n = 0; n < N; n++) total += loss[n];
  return peftjs::number(env, total);
}

// crossEntropyBackward(logits, targets, rowStats, grad, gradStride, scale, dx, N, V, ignoreIndex):
// row n is scaled by grad[n · gradStride] · scale (stride 0: one upstream value for every row).
PEFTJS_FN(crossEntropyBackward) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  const int32_t* targets = a.i32(1);
  const float* stats = a.f32(2);
  const float* grad = a.f32(3);
  const int64_t stride = a.i64(4);
  const double scale = a.f64(5);
  float* dx = a.f32(6);
  const int64_t N = a.i64(7), V = a.i64(8), ignore = a.i64(9);
  peftjs::parallel_for(N, 2 * V, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; n++) {
      float* out = dx + n * V;
      if (targets[n] == ignore) {
        std::memset(out, 0, static_cast<size_t>(V) * sizeof(float));
        continue;
      }
      const float* row = x + n * V;
      const float c = static_cast<float>(grad[n * stride] * scale);
      const float max = stats[2 * n], log_sum = stats[2 * n + 1];
#pragma omp simd
      for (int64_t v = 0; v < V; v++) out[v] = peftjs::vm::flush_subnormal(peftjs::vm::exp_flush((row[v] - max) - log_sum) * c);
      out[targets[n]] -= c;
    }
  });
  return peftjs::undefined(env);
}
