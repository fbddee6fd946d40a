// One matrix product C = alpha·op(A)·op(B) + beta·C (row-major, leading dimensions in elements),
// through whichever oneDNN path runs the shape faster; called from the main thread only.
#pragma once
#include <cstdint>

namespace peftjs {

void gemm(char ta, char tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The same product through dnnl_sgemm alone, with signals held on the calling thread (signals.h).
void sgemm(char ta, char tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace peftjs
