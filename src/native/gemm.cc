// Matrix multiplication through oneDNN (row-major, either operand transposed, alpha/beta so results
// can be accumulated into an existing buffer). Batched products with a batch stride of 0 broadcast
// that operand. Small batched products run one matrix per thread instead of splitting each product
// across threads.
//
// Most products go through dnnl_sgemm. A·Bᵀ products of at least 64 rows with a long reduction
// (K ≥ 1536 and ≥ 2N: a down projection, the input gradient of an up projection) or a
// vocabulary-wide N (an LM head) go through oneDNN's matmul primitive instead, which ran 5–14%
// faster than sgemm on those shapes on 2 AVX-512 cores and slower on most others. The choice
// depends on the shape alone, so a given product always takes the same path and results repeat
// run to run. A primitive that oneDNN cannot create leaves the product to sgemm.
#include "gemm.h"
#include <dnnl.h>
#include <omp.h>
#include <dnnl.hpp>
#include <map>
#include <tuple>
#include "napi_util.h"
#include "signals.h"

namespace {

bool prefers_primitive(char ta, char tb, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, int64_t ldc) {
  const bool contiguous = lda == K && ldb == K && ldc == N;
  return ta == 'N' && tb == 'T' && contiguous && M >= 64 && ((K >= 1536 && K >= 2 * N) || N >= 16384);
}

// Products of a shape not seen before are compiled once; a run that keeps changing shapes (one
// per prompt length, say) starts over past this many.
constexpr size_t kMaxCachedProducts = 64;

struct PrimitiveCache {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  // Keyed by shape, alpha, beta and the thread count the primitive was created for.
  std::map<std::tuple<int64_t, int64_t, int64_t, float, float, int>, dnnl::matmul> products;

  // C[M, N] = alpha·A[M, K]·B[N, K]ᵀ + beta·C, all row-major and contiguous. False when oneDNN
  // raised an error creating or starting the primitive (it does so before any of C is written).
  bool run(int64_t M, int64_t N, int64_t K, float alpha, float beta, const float* A, const float* B, float* C) {
    using dnnl::memory;
    try {
      const memory::desc a({M, K}, memory::data_type::f32, memory::dims{K, 1});
      const memory::desc b({K, N}, memory::data_type::f32, memory::dims{1, K});
      const memory::desc c({M, N}, memory::data_type::f32, memory::dims{N, 1});
      const auto key = std::make_tuple(M, N, K, alpha, beta, omp_get_max_threads());
      auto it = products.find(key);
      if (it == products.end()) {
        if (products.size() >= kMaxCachedProducts) products.clear();
        dnnl::primitive_attr attr;
        if (alpha != 1.f) attr.set_output_scales(0, {alpha});
        if (beta != 0.f) {
          dnnl::post_ops ops;
          ops.append_sum(beta);
          attr.set_post_ops(ops);
        }
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, engine);
        it = products.emplace(key, dnnl::matmul(pd)).first;
      }
      memory am(a, engine, const_cast<float*>(A)), bm(b, engine, const_cast<float*>(B)), cm(c, engine, C);
      const peftjs::SignalsHeld held;
      it->second.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
      stream.wait();
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }
};

PrimitiveCache& primitives() {
  static PrimitiveCache cache;
  return cache;
}

}  // namespace

void peftjs::sgemm(char ta, char tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const peftjs::SignalsHeld held;
  dnnl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void peftjs::gemm(char ta, char tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (prefers_primitive(ta, tb, M, N, K, lda, ldb, ldc) && primitives().run(M, N, K, alpha, beta, A, B, C)) return;
  peftjs::sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

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
    const peftjs::SignalsHeld held;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < batch; b++)
      dnnl_sgemm(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
  } else {
    for (int64_t b = 0; b < batch; b++) peftjs::gemm(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
  }
  return peftjs::undefined(env);
}
