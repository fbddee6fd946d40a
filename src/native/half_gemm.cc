// Products with a weight stored in 16 bits (bf16 or f16, frozen weights): out[M, N] = beta·out +
// x[M, K]·Wᵀ with W [N, K] (nn.Linear's layout), or x·W with W [K, N] (`w_in_out`: Conv1D). The
// weight is widened to f32 inside the kernel and every product is an f32 FMA, so the result is that
// of an f32 GEMM on the rounded weight (up to summation order) while reading half the bytes.
// - Few rows (decoding: M up to kSmallRows) read W once, sequentially, with register-blocked
//   micro-kernels for blocks of up to 8 rows of x (x first rearranged so that a block reads it from
//   one advancing pointer): each widened weight vector feeds the FMAs of all those rows, so that
//   one row stays bound by reading W and 8 rows are bound by the FMAs.
//   W [N, K]: MB rows of x × NB weight rows of dot products accumulate in registers over K and are
//   reduced at the end. W [K, N]: MB rows × NV vectors of 16 output columns accumulate over 16
//   weight rows at a time (16 sequential streams, the next 16 rows prefetched), x's values
//   broadcast once per block; the output block is reloaded for the next 16 rows. Threads take
//   contiguous blocks from a shared counter: of weight rows for W [N, K]; for W [K, N], of output
//   columns, or of weight rows when rows are long (each thread then adds into its own sums over
//   all of out, added up at the end).
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
#include "signals.h"
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
  const peftjs::SignalsHeld held;
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
constexpr int kMaxBlockRows = 8;  // rows of x per micro-kernel
constexpr int64_t kGroupRows = 24;  // W [N, K]: weight rows shared by every block of x rows (a multiple of each NB)
constexpr int64_t kStreamRows = 16;  // W [K, N]: weight rows streamed side by side
// W [K, N]: output columns from which threads split K rather than N (measured with weights out of
// cache: faster for 768x3072 and 768x2304, slower for 3072x768 and 768x768).
constexpr int64_t kSplitRowsFrom = 2048;
constexpr int64_t kPrefetchAhead = 2048;  // W [N, K]: weights prefetched this far ahead of each row's position

// Complete unrolling of the loops over register blocks keeps their accumulators in registers.
#define UNROLL _Pragma("GCC unroll 64")

inline __mmask16 lanes(int64_t remaining) { return remaining <= 0 ? 0 : peftjs::tail_mask(remaining); }

// 16 weights widened to f32 (lanes outside m read as 0). A bf16 is the top half of an f32, so one
// zero-masked word permutation (a single shuffle µop) places weight i in the high word of lane i.
template <bool BF16>
inline __m512 load_half(const uint16_t* p, __mmask16 m) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  if constexpr (BF16) {
    const __m512i high_words = _mm512_slli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 16);
    return _mm512_castsi512_ps(_mm512_maskz_permutexvar_epi16(0xAAAAAAAAu, high_words, _mm512_castsi256_si512(h)));
  } else {
    return _mm512_cvtph_ps(h);
  }
}

inline void store(float* dst, float v, float beta) { *dst = beta == 0.f ? v : beta * *dst + v; }

// The four sums of a, b, c and d's lanes.
inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));  // per 128 bits: a02 b02 a13 b13
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  const __m512 abcd = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xEE));
  const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(abcd), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(abcd), 1)));
  return _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
}

// Register blocks: MB rows of x by NB weight rows (W [N, K]) or by NV vectors of 16 output columns
// (W [K, N]), sized so that the accumulators and the operands held for them fit in 32 registers.
constexpr int dot_weight_rows(int mb) { return mb <= 2 ? 8 : mb <= 4 ? 6 : mb <= 6 ? 4 : 3; }
constexpr int stream_vectors(int mb) { return mb <= 2 ? 8 : mb <= 3 ? 5 : mb <= 4 ? 4 : mb <= 5 ? 3 : 2; }

// W [N, K]: out[m0 + i, n0 + j] for i < MB, j < nb ≤ NB. Per 16 columns of K each weight row is
// widened once and each row of x loaded once; the MB·NB dot products accumulate in registers and
// are reduced at the end. Rows past nb repeat the last one and are not stored.
template <bool BF16, int MB>
void dot_block(const Problem& p, const float* xb, int64_t m0, int64_t n0, int64_t nb) {
  constexpr int NB = dot_weight_rows(MB);
  const uint16_t* w[NB];
  for (int j = 0; j < NB; j++) w[j] = p.w + (n0 + std::min<int64_t>(j, nb - 1)) * p.K;
  __m512 acc[MB][NB];
  for (auto& row : acc)
    for (auto& a : row) a = _mm512_setzero_ps();
  const auto step = [&](int64_t k, __mmask16 m) {
    const float* x = xb + k * MB;
    // Hold whichever operand set is smaller and stream the other.
    if constexpr (MB <= NB) {
      __m512 xv[MB];
      UNROLL for (int i = 0; i < MB; i++) xv[i] = _mm512_loadu_ps(x + 16 * i);
      UNROLL for (int j = 0; j < NB; j++) {
        const __m512 wv = load_half<BF16>(w[j] + k, m);
        UNROLL for (int i = 0; i < MB; i++) acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
      }
    } else {
      __m512 wv[NB];
      UNROLL for (int j = 0; j < NB; j++) wv[j] = load_half<BF16>(w[j] + k, m);
      UNROLL for (int i = 0; i < MB; i++) {
        const __m512 xv = _mm512_loadu_ps(x + 16 * i);
        UNROLL for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
      }
    }
  };
  int64_t k = 0;
  for (; k + 32 <= p.K; k += 32) {
    UNROLL for (int j = 0; j < NB; j++) _mm_prefetch(reinterpret_cast<const char*>(w[j] + k + kPrefetchAhead), _MM_HINT_T0);
    step(k, 0xFFFF);
    step(k + 16, 0xFFFF);
  }
  for (; k + 16 <= p.K; k += 16) step(k, 0xFFFF);
  if (k < p.K) step(k, peftjs::tail_mask(p.K - k));
  constexpr int kPadded = (NB + 3) / 4 * 4;
  float sums[MB][kPadded];
  UNROLL for (int i = 0; i < MB; i++)
    UNROLL for (int j = 0; j < NB; j += 4) {
      const auto at = [&](int c) { return c < NB ? acc[i][c] : _mm512_setzero_ps(); };
      _mm_storeu_ps(&sums[i][j], reduce4(at(j), at(j + 1), at(j + 2), at(j + 3)));
    }
  for (int i = 0; i < MB; i++)
    for (int j = 0; j < nb; j++) store(p.out + (m0 + i) * p.N + n0 + j, sums[i][j], p.beta);
}

// W [K, N]: sums[m0 + i, n0 + c] (rows p.N apart) for i < MB, c < cols ≤ 16·NV, adding weight
// rows [k0, k1) to what sums holds, or to beta·sums when `start`. Each weight vector is widened
// once for all MB rows and each x value broadcast once for all NV vectors.
template <bool BF16, int MB, int NV>
void stream_block(const Problem& p, const float* xb, float* sums, int64_t m0, int64_t n0, int64_t cols, int64_t k0, int64_t k1, bool start) {
  const int64_t N = p.N;
  float* const y = sums + m0 * N + n0;
  __mmask16 m[NV];
  UNROLL for (int v = 0; v < NV; v++) m[v] = lanes(cols - 16 * v);
  __m512 acc[MB][NV];
  UNROLL for (int i = 0; i < MB; i++)
    UNROLL for (int v = 0; v < NV; v++) {
      if (!start) acc[i][v] = _mm512_maskz_loadu_ps(m[v], y + i * N + 16 * v);
      else if (p.beta == 0.f) acc[i][v] = _mm512_setzero_ps();
      else acc[i][v] = _mm512_mul_ps(_mm512_set1_ps(p.beta), _mm512_maskz_loadu_ps(m[v], y + i * N + 16 * v));
    }
  const float* x = xb + k0 * MB;
  const uint16_t* w = p.w + k0 * N + n0;
  for (int64_t k = k0; k < k1; k++, x += MB, w += N) {
    __m512 wv[NV];
    UNROLL for (int v = 0; v < NV; v++) wv[v] = load_half<BF16>(w + 16 * v, m[v]);
    UNROLL for (int i = 0; i < MB; i++) {
      const __m512 xi = _mm512_set1_ps(x[i]);
      UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(xi, wv[v], acc[i][v]);
    }
  }
  UNROLL for (int i = 0; i < MB; i++)
    UNROLL for (int v = 0; v < NV; v++) _mm512_mask_storeu_ps(y + i * N + 16 * v, m[v], acc[i][v]);
}

// Calls body(std::integral_constant<int, MB>) for MB = min(rows, kMaxBlockRows).
template <typename Body>
void with_block_rows(int64_t rows, Body&& body) {
  switch (std::min<int64_t>(rows, kMaxBlockRows)) {
    case 1: return body(std::integral_constant<int, 1>{});
    case 2: return body(std::integral_constant<int, 2>{});
    case 3: return body(std::integral_constant<int, 3>{});
    case 4: return body(std::integral_constant<int, 4>{});
    case 5: return body(std::integral_constant<int, 5>{});
    case 6: return body(std::integral_constant<int, 6>{});
    case 7: return body(std::integral_constant<int, 7>{});
    default: return body(std::integral_constant<int, 8>{});
  }
}

int64_t padded_depth(int64_t K) { return (K + 15) / 16 * 16; }

// x rearranged per block of MB rows (kMaxBlockRows, the last one fewer) so that a micro-kernel reads
// it at fixed offsets from one advancing pointer. W [N, K]: per 16 columns of K (zero-padded), the
// block's rows one after another, at xp + m0·padded_depth(K). W [K, N]: per column of K, the
// block's MB values side by side, at xp + m0·K.
void pack_rows(const Problem& p, float* xp) {
  const int64_t depth = p.in_out ? p.K : padded_depth(p.K);
  for (int64_t m0 = 0; m0 < p.M; m0 += kMaxBlockRows) {
    const int64_t mb = std::min<int64_t>(kMaxBlockRows, p.M - m0);
    float* block = xp + m0 * depth;
    const float* x = p.x + m0 * p.K;
    if (p.in_out) {
      with_block_rows(mb, [&](auto rows) {
        constexpr int MB = decltype(rows)::value;
        for (int64_t k = 0; k < p.K; k++)
          UNROLL for (int i = 0; i < MB; i++) block[k * MB + i] = x[i * p.K + k];
      });
    } else {
      for (int64_t k = 0; k < p.K; k += 16)
        for (int64_t i = 0; i < mb; i++)
          _mm512_storeu_ps(block + k * mb + 16 * i, _mm512_maskz_loadu_ps(peftjs::tail_mask(p.K - k), x + i * p.K + k));
    }
  }
}

// W [N, K], weight rows [n0, n1): groups of kGroupRows rows, each read from memory once and from
// cache by the blocks of x rows after the first.
template <bool BF16>
void dot_rows(const Problem& p, const float* xp, int64_t n0, int64_t n1) {
  for (int64_t g = n0; g < n1; g += kGroupRows) {
    const int64_t g1 = std::min(n1, g + kGroupRows);
    for (int64_t m = 0; m < p.M;) {
      with_block_rows(p.M - m, [&](auto mb) {
        constexpr int MB = decltype(mb)::value;
        for (int64_t n = g; n < g1; n += dot_weight_rows(MB)) dot_block<BF16, MB>(p, xp + m * padded_depth(p.K), m, n, std::min<int64_t>(dot_weight_rows(MB), g1 - n));
        m += MB;
      });
    }
  }
}

// The lines of rows [k0 + kStreamRows, k0 + 2·kStreamRows) below k_end over columns [n, n + cols):
// the same columns of the next rows, prefetched while these are read.
void prefetch_next(const Problem& p, int64_t k0, int64_t k_end, int64_t n, int64_t cols) {
  for (int64_t r = k0 + kStreamRows; r < std::min(k_end, k0 + 2 * kStreamRows); r++)
    for (int64_t c = n; c < n + cols; c += 32) _mm_prefetch(reinterpret_cast<const char*>(p.w + r * p.N + c), _MM_HINT_T0);
}

// W [K, N], weight rows [ka, kb) and output columns [n0, n1) added into sums[M, N] (starting
// from beta·sums if from_beta): kStreamRows rows at a time (as many sequential streams), the next
// rows prefetched while the first block of x rows runs.
template <bool BF16>
void stream_rows(const Problem& p, const float* xp, float* sums, int64_t n0, int64_t n1, int64_t ka, int64_t kb, bool from_beta) {
  for (int64_t k0 = ka; k0 < kb; k0 += kStreamRows) {
    const int64_t k1 = std::min(kb, k0 + kStreamRows);
    const bool start = from_beta && k0 == ka;
    for (int64_t m = 0; m < p.M;) {
      with_block_rows(p.M - m, [&](auto mb) {
        constexpr int MB = decltype(mb)::value;
        constexpr int64_t width = 16 * stream_vectors(MB);
        for (int64_t n = n0; n < n1; n += width) {
          if (m == 0) prefetch_next(p, k0, kb, n, std::min(width, n1 - n));
          // A narrower last block goes 16 columns at a time rather than through masked-off vectors.
          if (n + width <= n1) stream_block<BF16, MB, stream_vectors(MB)>(p, xp + m * p.K, sums, m, n, width, k0, k1, start);
          else
            for (int64_t c = n; c < n1; c += 16) stream_block<BF16, MB, 1>(p, xp + m * p.K, sums, m, c, n1 - c, k0, k1, start);
        }
        m += MB;
      });
    }
  }
}

// W [K, N] with long rows: tasks are contiguous blocks of W's rows, each read as whole rows.
// Each task adds into its own sums over all of out, and those are added up at the end in task
// order, so the result does not depend on which worker ran which task.
template <bool BF16>
void split_rows(const Problem& p, const float* xp) {
  const int64_t blocks = (p.K + kStreamRows - 1) / kStreamRows;
  const int64_t workers = peftjs::worker_count(blocks);
  if (workers == 1) return stream_rows<BF16>(p, xp, p.out, 0, p.N, 0, p.K, true);
  const int64_t tasks = std::min(blocks, 4 * workers), size = p.M * p.N;
  std::vector<float> sums(static_cast<size_t>(tasks * size), 0.f);
  peftjs::run_tasks(workers, tasks, blocks / tasks * kStreamRows * p.N * p.M, [&](int64_t, int64_t t) {
    const int64_t ka = t * blocks / tasks * kStreamRows, kb = std::min(p.K, (t + 1) * blocks / tasks * kStreamRows);
    stream_rows<BF16>(p, xp, sums.data() + t * size, 0, p.N, ka, kb, false);
  });
  peftjs::parallel_for(size, tasks, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      float v = p.beta == 0.f ? 0.f : p.beta * p.out[i];
      for (int64_t t = 0; t < tasks; t++) v += sums[t * size + i];
      p.out[i] = v;
    }
  });
}

template <bool BF16>
void small(const Problem& p) {
  // One row needs no rearranging except K's zero padding for W [N, K].
  std::vector<float> packed;
  const float* xp = p.x;
  if (p.M > 1 || (!p.in_out && p.K % 16 != 0)) {
    packed.resize(static_cast<size_t>(p.M * (p.in_out ? p.K : padded_depth(p.K))));
    pack_rows(p, packed.data());
    xp = packed.data();
  }
  if (p.in_out && p.N >= kSplitRowsFrom) return split_rows<BF16>(p, xp);
  // About four tasks per thread, each a contiguous block of weight rows (W [N, K]) or of output
  // columns (W [K, N]), taken from a shared counter.
  const int64_t threads = peftjs::worker_count(p.N);
  const int64_t per_task = std::max<int64_t>(16, (p.N + 4 * threads - 1) / (4 * threads) + 15) / 16 * 16;
  const int64_t tasks = (p.N + per_task - 1) / per_task;
  peftjs::run_tasks(peftjs::worker_count(tasks), tasks, per_task * p.K * p.M, [&](int64_t, int64_t t) {
    const int64_t n0 = t * per_task, n1 = std::min(p.N, n0 + per_task);
    if (p.in_out) stream_rows<BF16>(p, xp, p.out, n0, n1, 0, p.K, true);
    else dot_rows<BF16>(p, xp, n0, n1);
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
