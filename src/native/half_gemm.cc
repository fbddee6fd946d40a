// Products with a weight stored in 16 bits (bf16 or f16, frozen weights): out[M, N] = beta·out +
// x[M, K]·Wᵀ with W [N, K] (nn.Linear's layout), or x·W with W [K, N] (`w_in_out`: Conv1D). The
// weight is widened to f32 inside the kernel and every product is an f32 FMA, so the result is that
// of an f32 GEMM on the rounded weight (up to summation order) while reading half the bytes.
// - Few rows (decoding: M up to kSmallRows) are bound by reading W, which is streamed sequentially.
//   W [N, K]: one dot product per weight row and row of x (up to 8 rows of x share each weight
//   row). W [K, N]: 16 weight rows at a time, each output chunk updated in place. Threads take
//   contiguous blocks of weight rows or output columns from a shared counter.
// - More rows (prefills) are compute bound: each task widens a block of W into a per-thread f32
//   buffer that stays in cache and runs dnnl_sgemm on it. Builds without AVX-512 take this path for
//   every M.
#include "vector_width.h"
#include <dnnl.h>
#include <algorithm>
#include <cstdint>
#include <type_traits>
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

// W [N, K], one row of x: out[m0, n] for weight rows [n0, n1), each a dot product over four
// accumulators, W read as one sequential stream with a prefetch 1 KB ahead.
template <bool BF16>
void dot_rows_1(const Problem& p, int64_t m0, int64_t n0, int64_t n1) {
  const float* x = p.x + m0 * p.K;
  for (int64_t n = n0; n < n1; n++) {
    const uint16_t* w = p.w + n * p.K;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t k = 0;
    for (; k + 64 <= p.K; k += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(w + k + 512), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(w + k + 544), _MM_HINT_T0);
      for (int j = 0; j < 4; j++) acc[j] = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16 * j), load_half<BF16>(w + k + 16 * j, 0xFFFF), acc[j]);
    }
    for (; k < p.K; k += 16) {
      const __mmask16 m = peftjs::tail_mask(p.K - k);
      acc[0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), load_half<BF16>(w + k, m), acc[0]);
    }
    store(p.out + m0 * p.N + n, _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))), p.beta);
  }
}

// W [N, K], MB rows of x from m0: each weight row is read once for all of them.
template <bool BF16, int MB>
void dot_rows(const Problem& p, int64_t m0, int64_t n0, int64_t n1) {
  const float* x = p.x + m0 * p.K;
  for (int64_t n = n0; n < n1; n++) {
    const uint16_t* w = p.w + n * p.K;
    __m512 acc[MB];
    for (int i = 0; i < MB; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t k = 0; k < p.K; k += 16) {
      const __mmask16 m = peftjs::tail_mask(p.K - k);
      _mm_prefetch(reinterpret_cast<const char*>(w + k + 512), _MM_HINT_T0);
      const __m512 wv = load_half<BF16>(w + k, m);
      for (int i = 0; i < MB; i++) acc[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i * p.K + k), wv, acc[i]);
    }
    for (int i = 0; i < MB; i++) store(p.out + (m0 + i) * p.N + n, _mm512_reduce_add_ps(acc[i]), p.beta);
  }
}

// W [K, N], MB rows of x from m0, output columns [n0, n1): W is streamed KB rows at a time (KB
// sequential streams, the next KB rows prefetched one cache line per row and 32 columns), each
// output chunk updated in place through two accumulation chains.
template <bool BF16, int MB, int KB>
void stream_rows(const Problem& p, int64_t m0, int64_t n0, int64_t n1, int64_t k0) {
  for (int64_t n = n0; n < n1; n += 16) {
    if (KB > 1 && (n - n0) % 32 == 0 && k0 + 2 * KB <= p.K)
      for (int r = 0; r < KB; r++) _mm_prefetch(reinterpret_cast<const char*>(p.w + (k0 + KB + r) * p.N + n), _MM_HINT_T0);
    const __mmask16 m = peftjs::tail_mask(n1 - n);
    __m512 wv[KB];
    for (int r = 0; r < KB; r++) wv[r] = load_half<BF16>(p.w + (k0 + r) * p.N + n, m);
    for (int i = 0; i < MB; i++) {
      float* y = p.out + (m0 + i) * p.N + n;
      const float* x = p.x + (m0 + i) * p.K + k0;
      __m512 acc[2] = {_mm512_maskz_loadu_ps(m, y), _mm512_setzero_ps()};
      for (int r = 0; r < KB; r++) acc[r & 1] = _mm512_fmadd_ps(_mm512_set1_ps(x[r]), wv[r], acc[r & 1]);
      _mm512_mask_storeu_ps(y, m, _mm512_add_ps(acc[0], acc[1]));
    }
  }
}

template <bool BF16, int MB>
void stream_columns(const Problem& p, int64_t m0, int64_t n0, int64_t n1) {
  for (int i = 0; i < MB; i++) {
    float* y = p.out + (m0 + i) * p.N;
    for (int64_t n = n0; n < n1; n++) y[n] = p.beta == 0.f ? 0.f : p.beta * y[n];
  }
  int64_t k = 0;
  for (; k + 16 <= p.K; k += 16) stream_rows<BF16, MB, 16>(p, m0, n0, n1, k);
  for (; k < p.K; k++) stream_rows<BF16, MB, 1>(p, m0, n0, n1, k);
}

// Rows of x in blocks of 8, 4, 2 and 1.
template <bool BF16>
void rows_of(const Problem& p, int64_t n0, int64_t n1) {
  int64_t m = 0;
  const auto run = [&](auto mb) {
    constexpr int MB = decltype(mb)::value;
    for (; m + MB <= p.M; m += MB) {
      if (p.in_out) stream_columns<BF16, MB>(p, m, n0, n1);
      else if constexpr (MB == 1) dot_rows_1<BF16>(p, m, n0, n1);
      else dot_rows<BF16, MB>(p, m, n0, n1);
    }
  };
  run(std::integral_constant<int, 8>{});
  run(std::integral_constant<int, 4>{});
  run(std::integral_constant<int, 2>{});
  run(std::integral_constant<int, 1>{});
}

template <bool BF16>
void small(const Problem& p) {
  // About four tasks per thread, each a contiguous block of weight rows (W [N, K]) or of output
  // columns (W [K, N]), taken from a shared counter.
  const int64_t threads = peftjs::worker_count(p.N);
  const int64_t per_task = std::max<int64_t>(16, (p.N + 4 * threads - 1) / (4 * threads) + 15) / 16 * 16;
  const int64_t tasks = (p.N + per_task - 1) / per_task;
  peftjs::run_tasks(peftjs::worker_count(tasks), tasks, per_task * p.K * p.M, [&](int64_t, int64_t t) {
    rows_of<BF16>(p, t * per_task, std::min(p.N, (t + 1) * per_task));
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
