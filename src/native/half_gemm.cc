// Products with a weight stored in 16 bits (bf16 or f16, frozen weights): out[M, N] = beta·out +
// x[M, K]·Wᵀ with W [N, K] (nn.Linear's layout), or x·W with W [K, N] (`w_in_out`: Conv1D). The
// weight is widened to f32 inside the kernel and every product is an f32 FMA, so the result is that
// of an f32 GEMM on the rounded weight (up to summation order) while reading half the bytes.
// - Few rows (decoding: M up to kSmallRows) are bound by reading W. W [N, K]: tiles of 4 weight rows
//   × up to 4 rows of x, dot products accumulated in 16-lane registers and reduced at the end.
//   W [K, N]: tiles of up to 128 output columns, each row of W broadcast-multiplied with x's entry.
//   Threads take tiles from a shared counter.
// - More rows (prefills) are compute bound: each task widens a block of W into a per-thread f32
//   buffer that stays in cache and runs dnnl_sgemm on it. Builds without AVX-512 take this path for
//   every M.
#include "vector_width.h"
#include <dnnl.h>
#include <algorithm>
#include <cstdint>
#include <vector>
#include "half.h"
#include "napi_util.h"
#include "parallel.h"
#include "simd_math.h"

// GCC 12 flags the undefined pass-through operand inside its own _mm512_reduce_add_ps.
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace {

struct Problem {
  const float* x;
  const uint16_t* w;
  float* out;
  int64_t M, N, K;
  bool in_out, bf16;
  float beta;
};

inline float widen(uint16_t h, bool bf16) { return bf16 ? peftjs::bf16_to_f32(h) : peftjs::f16_to_f32(h); }

// Rows per f32 block: about 256 KB of widened weight per task.
int64_t block_cols(int64_t K) { return std::max<int64_t>(16, (65536 / std::max<int64_t>(K, 1)) / 16 * 16); }

// Output columns [n0, n0 + nb) for every row: W's block widened into `scratch`, then one sgemm.
void block_gemm(const Problem& p, int64_t n0, int64_t nb, std::vector<float>& scratch) {
  scratch.resize(static_cast<size_t>(nb * p.K));
  float* s = scratch.data();
  if (p.in_out) {  // W [K, N] → s [K, nb]
    for (int64_t k = 0; k < p.K; k++)
      for (int64_t j = 0; j < nb; j++) s[k * nb + j] = widen(p.w[k * p.N + n0 + j], p.bf16);
    dnnl_sgemm('N', 'N', p.M, nb, p.K, 1.f, p.x, p.K, s, nb, p.beta, p.out + n0, p.N);
  } else {  // W [N, K] → s [nb, K]
    const uint16_t* w = p.w + n0 * p.K;
    for (int64_t i = 0; i < nb * p.K; i++) s[i] = widen(w[i], p.bf16);
    dnnl_sgemm('N', 'T', p.M, nb, p.K, 1.f, p.x, p.K, s, p.K, p.beta, p.out + n0, p.N);
  }
}

void blocked(const Problem& p) {
  const int64_t nb = block_cols(p.K);
  const int64_t tasks = (p.N + nb - 1) / nb;
  const int64_t workers = peftjs::worker_count(tasks);
  std::vector<std::vector<float>> scratch(workers);
  peftjs::run_tasks(workers, tasks, p.M * nb * p.K, [&](int64_t w, int64_t t) {
    block_gemm(p, t * nb, std::min(nb, p.N - t * nb), scratch[w]);
  });
}

#ifdef __AVX512F__
constexpr int64_t kSmallRows = 16;

template <bool BF16>
inline __m512 load_half(const uint16_t* p, __mmask16 m) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  if constexpr (BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  else return _mm512_cvtph_ps(h);
}

inline void store(float* dst, float v, float beta) { *dst = beta == 0.f ? v : beta * *dst + v; }

// W [N, K]: out[m, n] for MB rows of x from m0 and NB weight rows from n0.
template <bool BF16, int MB, int NB>
void dot_tile(const Problem& p, int64_t m0, int64_t n0) {
  __m512 acc[MB][NB];
  for (int i = 0; i < MB; i++)
    for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_ps();
  const float* x = p.x + m0 * p.K;
  const uint16_t* w = p.w + n0 * p.K;
  for (int64_t k = 0; k < p.K; k += 16) {
    const __mmask16 m = peftjs::tail_mask(p.K - k);
    __m512 wv[NB];
    for (int j = 0; j < NB; j++) wv[j] = load_half<BF16>(w + j * p.K + k, m);
    for (int i = 0; i < MB; i++) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + i * p.K + k);
      for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < MB; i++)
    for (int j = 0; j < NB; j++) store(p.out + (m0 + i) * p.N + n0 + j, _mm512_reduce_add_ps(acc[i][j]), p.beta);
}

template <bool BF16, int NB>
void dot_rows(const Problem& p, int64_t n0) {
  int64_t m = 0;
  for (; m + 4 <= p.M; m += 4) dot_tile<BF16, 4, NB>(p, m, n0);
  switch (p.M - m) {
    case 3: dot_tile<BF16, 3, NB>(p, m, n0); break;
    case 2: dot_tile<BF16, 2, NB>(p, m, n0); break;
    case 1: dot_tile<BF16, 1, NB>(p, m, n0); break;
    default: break;
  }
}

// W [K, N]: out[m, n0 : n0 + 16·NV] for MB rows of x from m0 (columns beyond N masked off).
template <bool BF16, int MB, int NV>
void axpy_tile(const Problem& p, int64_t m0, int64_t n0) {
  __mmask16 mask[NV];
  for (int v = 0; v < NV; v++) mask[v] = peftjs::tail_mask(std::max<int64_t>(p.N - n0 - 16 * v, 0));
  __m512 acc[MB][NV];
  for (int i = 0; i < MB; i++)
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
  const uint16_t* w = p.w + n0;
  for (int64_t k = 0; k < p.K; k++) {
    const uint16_t* row = w + k * p.N;
    _mm_prefetch(reinterpret_cast<const char*>(row + 8 * p.N), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(row + 8 * p.N + 16 * NV - 1), _MM_HINT_T0);
    __m512 wv[NV];
    for (int v = 0; v < NV; v++) wv[v] = load_half<BF16>(row + 16 * v, mask[v]);
    for (int i = 0; i < MB; i++) {
      const __m512 xb = _mm512_set1_ps(p.x[(m0 + i) * p.K + k]);
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(xb, wv[v], acc[i][v]);
    }
  }
  for (int i = 0; i < MB; i++) {
    float* out = p.out + (m0 + i) * p.N + n0;
    for (int v = 0; v < NV; v++) {
      __m512 r = acc[i][v];
      if (p.beta != 0.f) r = _mm512_fmadd_ps(_mm512_set1_ps(p.beta), _mm512_maskz_loadu_ps(mask[v], out + 16 * v), r);
      _mm512_mask_storeu_ps(out + 16 * v, mask[v], r);
    }
  }
}

template <bool BF16, int NV>
void axpy_rows(const Problem& p, int64_t n0) {
  int64_t m = 0;
  for (; m + 2 <= p.M; m += 2) axpy_tile<BF16, 2, NV>(p, m, n0);
  if (m < p.M) axpy_tile<BF16, 1, NV>(p, m, n0);
}

template <bool BF16>
void small(const Problem& p) {
  // Tasks of whole tiles: 32 weight rows (W [N, K]) or 128 output columns (W [K, N]).
  const int64_t per_task = p.in_out ? 128 : 32;
  const int64_t tasks = (p.N + per_task - 1) / per_task;
  peftjs::run_tasks(peftjs::worker_count(tasks), tasks, per_task * p.K * p.M, [&](int64_t, int64_t t) {
    const int64_t n0 = t * per_task;
    const int64_t n1 = std::min(p.N, n0 + per_task);
    if (p.in_out) {
      axpy_rows<BF16, 8>(p, n0);
      return;
    }
    int64_t n = n0;
    for (; n + 4 <= n1; n += 4) dot_rows<BF16, 4>(p, n);
    for (; n < n1; n++) dot_rows<BF16, 1>(p, n);
  });
}
#endif

}  // namespace

// halfMatmul(x, w, out, M, N, K, wInOut, bf16, beta): out = beta·out + x·Wᵀ (W [N, K]) or x·W (W [K, N])
PEFTJS_FN(halfMatmul) {
  peftjs::Args a(env, info);
  const Problem p{a.f32(0), a.u16(1), a.f32(2), a.i64(3), a.i64(4), a.i64(5), a.flag(6), a.flag(7), static_cast<float>(a.f64(8))};
  if (p.M == 0 || p.N == 0) return peftjs::undefined(env);
  if (p.K == 0) {
    for (int64_t i = 0; i < p.M * p.N; i++) p.out[i] = p.beta == 0.f ? 0.f : p.beta * p.out[i];
    return peftjs::undefined(env);
  }
#ifdef __AVX512F__
  if (p.M <= kSmallRows) {
    if (p.bf16) small<true>(p);
    else small<false>(p);
    return peftjs::undefined(env);
  }
#endif
  blocked(p);
  return peftjs::undefined(env);
}
