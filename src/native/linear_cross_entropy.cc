// Cross-entropy of a linear layer's output without materialising it: loss over the rows of
// logits = x·Wᵀ ([N, V], W [V, E]) computed a chunk of rows at a time in a [chunk, V] scratch
// buffer. Each chunk's logits are turned in place into the gradient (softmax − onehot)·scale, and
// when gradients are wanted the same pass ends with dx = dlogits·W and dW += dlogitsᵀ·x, so the
// backward has nothing left to do but scale by the upstream gradient. Rows whose target is
// ignoreIndex have loss 0 and gradient 0. Targets were range-checked in JS.
#include <cmath>
#include <cstring>
#include "gemm.h"
#include "napi_util.h"
#include "parallel.h"
#include "row_simd.h"

// linearCrossEntropy(x [N, E], W [V, E], targets [N], loss [N], scratch [chunk, V], dx [N, E]|null,
//                    dW [V, E]|null (accumulated), N, E, V, chunk, ignoreIndex, scale) -> Σ loss
PEFTJS_FN(linearCrossEntropy) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  const float* W = a.f32(1);
  const int32_t* targets = a.i32(2);
  float* loss = a.f32(3);
  float* logits = a.f32(4);
  float* dx = a.f32(5);
  float* dW = a.f32(6);
  const int64_t N = a.i64(7), E = a.i64(8), V = a.i64(9), chunk = a.i64(10), ignore = a.i64(11);
  const float scale = static_cast<float>(a.f64(12));
  const bool grads = dx != nullptr || dW != nullptr;
  for (int64_t r0 = 0; r0 < N; r0 += chunk) {
    const int64_t rows = std::min(chunk, N - r0);
    const float* xc = x + r0 * E;
    peftjs::gemm('N', 'T', rows, V, E, 1.f, xc, E, W, E, 0.f, logits, V);
    peftjs::parallel_for(rows, 4 * V, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; r++) {
        float* row = logits + r * V;
        const int32_t t = targets[r0 + r];
        if (t == ignore) {
          loss[r0 + r] = 0.f;
          if (grads) std::memset(row, 0, static_cast<size_t>(V) * sizeof(float));
          continue;
        }
        if (!grads) {
          const peftjs::LogSumExp lse = peftjs::row_logsumexp(row, V);
          loss[r0 + r] = (lse.max - row[t]) + lse.log_sum;
          continue;
        }
        // One exp per logit: the row (V floats) stays in L2 from the exps to the scaling.
        const float target = row[t];
        const float max = peftjs::row_max(row, V);
        const double sum = peftjs::row_exp_store(row, V, max, row);
        loss[r0 + r] = (max - target) + std::log(static_cast<float>(sum));
        const float k = static_cast<float>(scale / sum);
#pragma omp simd
        for (int64_t v = 0; v < V; v++) row[v] = peftjs::vm::flush_subnormal(row[v] * k);
        row[t] -= scale;
      }
    });
    if (dx != nullptr) peftjs::sgemm('N', 'N', rows, E, V, 1.f, logits, V, W, E, 0.f, dx + r0 * E, E);
    if (dW != nullptr) peftjs::sgemm('T', 'N', V, E, rows, 1.f, logits, V, xc, E, 1.f, dW, E);
  }
  double total = 0;
  for (int64_t n = 0; n < N; n++) total += loss[n];
  return peftjs::number(env, total);
}
