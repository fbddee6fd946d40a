// Row primitives of the LoRA kernels (lora.cc) for a rank-r factor W [r, len] (rows contiguous):
// dots (r dot products of one row with W's rows), combine (one row plus a combination of W's rows)
// and rank_update (W-shaped accumulator plus an outer product over a few rows). Each streams its
// row(s) once and keeps up to 8 of W's rows in registers at a time. Builds without AVX-512 use
// plain loops.
#pragma once
#include <algorithm>
#include <cstdint>
#ifdef __AVX512F__
#include <immintrin.h>
// GCC 12 flags the deliberately undefined pass-through operand inside its own AVX-512 intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace peftjs::lora {

// Largest rank the kernels take (their per-row coefficient arrays live on the stack).
constexpr int64_t kMaxRank = 64;

#ifdef __AVX512F__
inline __mmask16 lanes(int64_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}

// out[k] = scale · row·W[k] for KB consecutive rows of W.
template <int KB>
inline void dots_block(const float* row, const float* W, int64_t len, float scale, float* out) {
  __m512 acc[KB];
  for (int k = 0; k < KB; k++) acc[k] = _mm512_setzero_ps();
  for (int64_t c = 0; c < len; c += 16) {
    const __mmask16 m = lanes(len - c);
    const __m512 v = _mm512_maskz_loadu_ps(m, row + c);
    for (int k = 0; k < KB; k++) acc[k] = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, W + k * len + c), acc[k]);
  }
  for (int k = 0; k < KB; k++) out[k] = scale * _mm512_reduce_add_ps(acc[k]);
}

// dst += Σ_k c[k]·W[k] over KB consecutive rows of W.
template <int KB>
inline void combine_block(float* dst, const float* W, int64_t len, const float* c) {
  __m512 coef[KB];
  for (int k = 0; k < KB; k++) coef[k] = _mm512_set1_ps(c[k]);
  for (int64_t i = 0; i < len; i += 16) {
    const __mmask16 m = lanes(len - i);
    __m512 acc = _mm512_maskz_loadu_ps(m, dst + i);
    for (int k = 0; k < KB; k++) acc = _mm512_fmadd_ps(coef[k], _mm512_maskz_loadu_ps(m, W + k * len + i), acc);
    _mm512_mask_storeu_ps(dst + i, m, acc);
  }
}

using DotsBlock = void (*)(const float*, const float*, int64_t, float, float*);
using CombineBlock = void (*)(float*, const float*, int64_t, const float*);
inline constexpr DotsBlock kDots[9] = {nullptr, dots_block<1>, dots_block<2>, dots_block<3>, dots_block<4>,
                                       dots_block<5>, dots_block<6>, dots_block<7>, dots_block<8>};
inline constexpr CombineBlock kCombine[9] = {nullptr, combine_block<1>, combine_block<2>, combine_block<3>, combine_block<4>,
                                             combine_block<5>, combine_block<6>, combine_block<7>, combine_block<8>};

// out[k] = scale · row·W[k] for k < r, in blocks of up to 8 rows of W.
inline void dots(const float* row, const float* W, int64_t len, int64_t r, float scale, float* out) {
  for (int64_t k0 = 0; k0 < r; k0 += 8) kDots[std::min<int64_t>(8, r - k0)](row, W + k0 * len, len, scale, out + k0);
}

// dst += Σ_k c[k]·W[k] for k < r, in blocks of up to 8 rows of W.
inline void combine(float* dst, const float* W, int64_t len, int64_t r, const float* c) {
  for (int64_t k0 = 0; k0 < r; k0 += 8) kCombine[std::min<int64_t>(8, r - k0)](dst, W + k0 * len, len, c + k0);
}

// acc[k] += Σ_j coef[j][k]·rows[j] for k < r and the n (≤ 4) rows.
inline void rank_update(float* acc, const float* const* rows, const float (*coef)[kMaxRank], int64_t n, int64_t len, int64_t r) {
  for (int64_t k = 0; k < r; k++) {
    float* out = acc + k * len;
    __m512 c[4];
    for (int64_t j = 0; j < n; j++) c[j] = _mm512_set1_ps(coef[j][k]);
    for (int64_t i = 0; i < len; i += 16) {
      const __mmask16 m = lanes(len - i);
      __m512 v = _mm512_maskz_loadu_ps(m, out + i);
      for (int64_t j = 0; j < n; j++) v = _mm512_fmadd_ps(c[j], _mm512_maskz_loadu_ps(m, rows[j] + i), v);
      _mm512_mask_storeu_ps(out + i, m, v);
    }
  }
}
#else
inline void dots(const float* row, const float* W, int64_t len, int64_t r, float scale, float* out) {
  for (int64_t k = 0; k < r; k++) {
    float s = 0.f;
    for (int64_t i = 0; i < len; i++) s += row[i] * W[k * len + i];
    out[k] = scale * s;
  }
}

inline void combine(float* dst, const float* W, int64_t len, int64_t r, const float* c) {
  for (int64_t k = 0; k < r; k++)
    for (int64_t i = 0; i < len; i++) dst[i] += c[k] * W[k * len + i];
}

inline void rank_update(float* acc, const float* const* rows, const float (*coef)[kMaxRank], int64_t n, int64_t len, int64_t r) {
  for (int64_t k = 0; k < r; k++)
    for (int64_t j = 0; j < n; j++)
      for (int64_t i = 0; i < len; i++) acc[k * len + i] += coef[j][k] * rows[j][i];
}
#endif

}  // namespace peftjs::lora
