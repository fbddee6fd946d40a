// Row primitives of the LoRA kernels (lora.cc) for a rank-r factor W [r, len] (rows contiguous) and a
// block of n rows of length len (contiguous, row stride len) with per-row coefficients of stride r:
//   dots:        out[j][k] = scale · rows[j]·W[k]
//   combine:     dst[j] += Σ_k c[j][k]·W[k]
//   rank_update: acc[k] += Σ_j coef[j][k]·rows[j]   (acc shaped like W)
// W's rows are read from cache, not memory, so the AVX-512 versions are register-blocked micro-kernels
// that share each loaded vector among several products: dots and combine take tiles of up to 4 rows
// × 4 of W's rows, rank_update keeps up to 16 rows of a 16-lane column in registers so each
// accumulator vector is loaded and stored once per block. Builds without AVX-512 use plain loops.
#pragma once
#include <algorithm>
#include <cstdint>
#ifdef __AVX512F__
#include <immintrin.h>
// GCC 12 flags the deliberately undefined pass-through operand inside its own AVX-512 intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace peftjs::lora {

// Largest rank the kernels take (their per-row coefficient arrays live on the stack).
constexpr int64_t kMaxRank = 64;
// Most rows one rank_update call takes.
constexpr int64_t kMaxUpdateRows = 16;

#ifdef __AVX512F__
inline __mmask16 lanes(int64_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}

// out[j·ldo + k] = scale · rows[j]·W[k] for RB rows and KB consecutive rows of W.
template <int RB, int KB>
inline void dots_tile(const float* rows, const float* W, int64_t len, float scale, float* out, int64_t ldo) {
  __m512 acc[RB][KB];
  for (int j = 0; j < RB; j++)
    for (int k = 0; k < KB; k++) acc[j][k] = _mm512_setzero_ps();
  for (int64_t c = 0; c < len; c += 16) {
    const __mmask16 m = lanes(len - c);
    __m512 v[RB];
    for (int j = 0; j < RB; j++) v[j] = _mm512_maskz_loadu_ps(m, rows + j * len + c);
    for (int k = 0; k < KB; k++) {
      const __m512 w = _mm512_maskz_loadu_ps(m, W + k * len + c);
      for (int j = 0; j < RB; j++) acc[j][k] = _mm512_fmadd_ps(v[j], w, acc[j][k]);
    }
  }
  for (int j = 0; j < RB; j++)
    for (int k = 0; k < KB; k++) out[j * ldo + k] = scale * _mm512_reduce_add_ps(acc[j][k]);
}

// dst[j] += Σ_k c[j·ldc + k]·W[k] for RB rows and KB consecutive rows of W.
template <int RB, int KB>
inline void combine_tile(float* dst, const float* W, int64_t len, const float* c, int64_t ldc) {
  __m512 coef[RB][KB];
  for (int j = 0; j < RB; j++)
    for (int k = 0; k < KB; k++) coef[j][k] = _mm512_set1_ps(c[j * ldc + k]);
  for (int64_t i = 0; i < len; i += 16) {
    const __mmask16 m = lanes(len - i);
    __m512 acc[RB];
    for (int j = 0; j < RB; j++) acc[j] = _mm512_maskz_loadu_ps(m, dst + j * len + i);
    for (int k = 0; k < KB; k++) {
      const __m512 w = _mm512_maskz_loadu_ps(m, W + k * len + i);
      for (int j = 0; j < RB; j++) acc[j] = _mm512_fmadd_ps(coef[j][k], w, acc[j]);
    }
    for (int j = 0; j < RB; j++) _mm512_mask_storeu_ps(dst + j * len + i, m, acc[j]);
  }
}

// acc[k] += Σ_j coef[j·r + k]·rows[j] for k < r and RB rows.
template <int RB>
inline void rank_update_block(float* acc, const float* rows, const float* coef, int64_t len, int64_t r) {
  for (int64_t i = 0; i < len; i += 16) {
    const __mmask16 m = lanes(len - i);
    __m512 v[RB];
    for (int j = 0; j < RB; j++) v[j] = _mm512_maskz_loadu_ps(m, rows + j * len + i);
    for (int64_t k = 0; k < r; k++) {
      float* out = acc + k * len + i;
      // Two chains of FMAs, not one of RB, so the next k's products need not wait on their latency.
      __m512 even = _mm512_maskz_loadu_ps(m, out), odd = _mm512_setzero_ps();
      for (int j = 0; j + 1 < RB; j += 2) {
        even = _mm512_fmadd_ps(_mm512_set1_ps(coef[j * r + k]), v[j], even);
        odd = _mm512_fmadd_ps(_mm512_set1_ps(coef[(j + 1) * r + k]), v[j + 1], odd);
      }
      if (RB % 2) even = _mm512_fmadd_ps(_mm512_set1_ps(coef[(RB - 1) * r + k]), v[RB - 1], even);
      _mm512_mask_storeu_ps(out, m, _mm512_add_ps(even, odd));
    }
  }
}

using DotsTile = void (*)(const float*, const float*, int64_t, float, float*, int64_t);
using CombineTile = void (*)(float*, const float*, int64_t, const float*, int64_t);
using RankUpdateBlock = void (*)(float*, const float*, const float*, int64_t, int64_t);
constexpr int64_t kTile = 4;
// Indexed [rows - 1][W's rows - 1].
inline constexpr DotsTile kDots[kTile][kTile] = {
    {dots_tile<1, 1>, dots_tile<1, 2>, dots_tile<1, 3>, dots_tile<1, 4>},
    {dots_tile<2, 1>, dots_tile<2, 2>, dots_tile<2, 3>, dots_tile<2, 4>},
    {dots_tile<3, 1>, dots_tile<3, 2>, dots_tile<3, 3>, dots_tile<3, 4>},
    {dots_tile<4, 1>, dots_tile<4, 2>, dots_tile<4, 3>, dots_tile<4, 4>}};
inline constexpr CombineTile kCombine[kTile][kTile] = {
    {combine_tile<1, 1>, combine_tile<1, 2>, combine_tile<1, 3>, combine_tile<1, 4>},
    {combine_tile<2, 1>, combine_tile<2, 2>, combine_tile<2, 3>, combine_tile<2, 4>},
    {combine_tile<3, 1>, combine_tile<3, 2>, combine_tile<3, 3>, combine_tile<3, 4>},
    {combine_tile<4, 1>, combine_tile<4, 2>, combine_tile<4, 3>, combine_tile<4, 4>}};
// Indexed [rows - 1].
inline constexpr RankUpdateBlock kRankUpdate[kMaxUpdateRows] = {
    rank_update_block<1>, rank_update_block<2>, rank_update_block<3>, rank_update_block<4>,
    rank_update_block<5>, rank_update_block<6>, rank_update_block<7>, rank_update_block<8>,
    rank_update_block<9>, rank_update_block<10>, rank_update_block<11>, rank_update_block<12>,
    rank_update_block<13>, rank_update_block<14>, rank_update_block<15>, rank_update_block<16>};

inline void dots(const float* rows, int64_t n, const float* W, int64_t len, int64_t r, float scale, float* out) {
  for (int64_t j0 = 0; j0 < n; j0 += kTile)
    for (int64_t k0 = 0; k0 < r; k0 += kTile)
      kDots[std::min(kTile, n - j0) - 1][std::min(kTile, r - k0) - 1](rows + j0 * len, W + k0 * len, len, scale, out + j0 * r + k0, r);
}

inline void combine(float* dst, int64_t n, const float* W, int64_t len, int64_t r, const float* c) {
  for (int64_t j0 = 0; j0 < n; j0 += kTile)
    for (int64_t k0 = 0; k0 < r; k0 += kTile)
      kCombine[std::min(kTile, n - j0) - 1][std::min(kTile, r - k0) - 1](dst + j0 * len, W + k0 * len, len, c + j0 * r + k0, r);
}

// n ≤ kMaxUpdateRows.
inline void rank_update(float* acc, const float* rows, int64_t n, const float* coef, int64_t len, int64_t r) {
  kRankUpdate[n - 1](acc, rows, coef, len, r);
}
#else
inline void dots(const float* rows, int64_t n, const float* W, int64_t len, int64_t r, float scale, float* out) {
  for (int64_t j = 0; j < n; j++)
    for (int64_t k = 0; k < r; k++) {
      float s = 0.f;
      for (int64_t i = 0; i < len; i++) s += rows[j * len + i] * W[k * len + i];
      out[j * r + k] = scale * s;
    }
}

inline void combine(float* dst, int64_t n, const float* W, int64_t len, int64_t r, const float* c) {
  for (int64_t j = 0; j < n; j++)
    for (int64_t k = 0; k < r; k++)
      for (int64_t i = 0; i < len; i++) dst[j * len + i] += c[j * r + k] * W[k * len + i];
}

inline void rank_update(float* acc, const float* rows, int64_t n, const float* coef, int64_t len, int64_t r) {
  for (int64_t k = 0; k < r; k++)
    for (int64_t j = 0; j < n; j++)
      for (int64_t i = 0; i < len; i++) acc[k * len + i] += coef[j * r + k] * rows[j * len + i];
}
#endif

}  // namespace peftjs::lora
