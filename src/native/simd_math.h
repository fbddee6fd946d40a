// Row primitives for softmax-style kernels. exp(x) = 2^n · e^r with n = round(x·log2 e) and
// |r| ≤ ln2/2, e^r from the Cephes degree-6 minimax polynomial (relative error ≈ 1e-7). Inputs
// below ln(FLT_MIN) give exactly 0 (so -inf → 0 and no denormals reach the GEMMs); NaN propagates.
// Builds without AVX-512 fall back to std::exp and plain loops.
#pragma once
#include <cmath>
#include <cstdint>
#ifdef __AVX512F__
#include <immintrin.h>
// GCC 12 flags the deliberately undefined pass-through operand inside its own AVX-512 intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace peftjs {

#ifdef __AVX512F__
inline __m512 exp16(__m512 x) {
  const __m512 lowest = _mm512_set1_ps(-87.33654f);
  const __mmask16 underflow = _mm512_cmp_ps_mask(x, lowest, _CMP_LT_OQ);
  x = _mm512_max_ps(lowest, x);  // operand order keeps NaN
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~underflow), _mm512_scalef_ps(p, n));
}

inline __mmask16 tail_mask(int64_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}
#endif

// x[i] = exp(x[i] - shift) for i < n; returns the sum of the results.
inline float exp_shifted_sum(float* x, int64_t n, float shift) {
#ifdef __AVX512F__
  const __m512 s = _mm512_set1_ps(shift);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s));
    _mm512_mask_storeu_ps(x + i, m, e);
    acc = _mm512_mask_add_ps(acc, m, acc, e);
  }
  return _mm512_reduce_add_ps(acc);
#else
  float sum = 0.f;
  for (int64_t i = 0; i < n; i++) sum += (x[i] = std::exp(x[i] - shift));
  return sum;
#endif
}

// x[i] = exp((x[i] - shift) - shift2) for i < n: softmax weights from a row's max and log-sum kept
// apart, which stays exact when the max is as large as a finfo.min mask and the log-sum would vanish.
inline void exp_shifted2(float* x, int64_t n, float shift, float shift2) {
#ifdef __AVX512F__
  const __m512 s = _mm512_set1_ps(shift);
  const __m512 s2 = _mm512_set1_ps(shift2);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, exp16(_mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s), s2)));
  }
#else
  for (int64_t i = 0; i < n; i++) x[i] = std::exp((x[i] - shift) - shift2);
#endif
}

// Largest of x[0..n), or -inf for n == 0.
inline float max_of(const float* x, int64_t n) {
#ifdef __AVX512F__
  __m512 acc = _mm512_set1_ps(-INFINITY);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    acc = _mm512_mask_max_ps(acc, m, acc, _mm512_maskz_loadu_ps(m, x + i));
  }
  return _mm512_reduce_max_ps(acc);
#else
  float best = -INFINITY;
  for (int64_t i = 0; i < n; i++) best = x[i] > best ? x[i] : best;
  return best;
#endif
}

// Σ a[i]·b[i] in f32 with 16 independent partial sums.
inline float dot(const float* a, const float* b, int64_t n) {
  float acc = 0.f;
#pragma omp simd reduction(+ : acc) simdlen(16)
  for (int64_t i = 0; i < n; i++) acc += a[i] * b[i];
  return acc;
}

inline float sum_of(const float* x, int64_t n) {
  float acc = 0.f;
#pragma omp simd reduction(+ : acc) simdlen(16)
  for (int64_t i = 0; i < n; i++) acc += x[i];
  return acc;
}

}  // namespace peftjs
