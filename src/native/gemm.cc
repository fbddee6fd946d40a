// Matrix multiplication through oneDNN's sgemm (row-major, either operand transposed, alpha/beta
// so results can be accumulated into an existing buffer). Batched products with a batch stride of
// 0 broadcast that operand. Small batched products run one matrix per thread instead of splitting
// each product across threads.
#include <dnnl.h>
#include <omp.h>
#include "napi_util.h"

// matmul(A, aOffset, B, bOffset, C, cOffset, batch, M, N, K, transA, transB, alpha, beta,
//        strideA, strideB, strideC)   (offsets and strides in elements)
PEFTJS_FN(matmul) {
  peftjs::Args a(env, info);
  const float* A = a.f32(0) + a.i64(1);
  const float* B = a.f32(2) + a.i64(3);
  float* C = a.f32(4) + a.i64(5);
  const int64_t batch = a.i64(6), M = a.i64(7), N = a.i64(8), K = a.i64(9);
  const bool tA = a.flag(10), tB = a.flag(11);
  const float alpha = static_cast<float>(a.f64(12)), beta = static_cast<float>(a.f64(13));
  const int64_t sA = a.i64(14), sB = a.i64(15), sC = a.i64(16);
  const int64_t lda = tA ? M : K, ldb = tB ? K : N, ldc = N;
  const char ta = tA ? 'T' : 'N', tb = tB ? 'T' : 'N';
  if (M == 0 || N == 0) return peftjs::undefined(env);
  if (K == 0) {
    for (int64_t b = 0; b < batch; b++)
      for (int64_t i = 0; i < M * N; i++) C[b * sC + i] = beta == 0.f ? 0.f : beta * C[b * sC + i];
    return peftjs::undefined(env);
  }
  const int threads = omp_get_max_threads();
  const double flops_each = 2.0 * M * N * K;
  if (batch > 1 && threads > 1 && flops_each < 8.0e6) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < batch; b++)
      dnnl_sgemm(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
  } else {
    for (int64_t b = 0; b < batch; b++)
      dnnl_sgemm(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
  }
  return peftjs::undefined(env);
}
