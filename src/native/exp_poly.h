// A f32 exp that GCC vectorises inside `#pragma omp simd` loops (libm's expf does not vectorise
// without -ffast-math). Cody-Waite range reduction x = n·ln2 + r, a degree-6 polynomial for e^r on
// [-ln2/2, ln2/2] (Cephes coefficients, ~1 ulp), then scaling by 2·2^(n-1) through the exponent
// bits. n is clamped to [-126, 129] as an integer, where 2^(n-1) becomes 0 or +inf: results below
// ~1e-38 flush to exactly +0 (so -inf masks give 0), overflow gives +inf, and NaN stays NaN.
// Clamping in the integer domain keeps the loop free of float selects, which GCC would otherwise
// if-convert into several masked copies of the polynomial.
#pragma once
#include <cmath>
#include <cstdint>

namespace peftjs {

inline float exp_poly(float x) {
  // x·log2(e) + 1.5·2^23 rounds to an integer n held in the low mantissa bits: bits = 0x4B400000 + n.
  const int32_t t = __builtin_bit_cast(int32_t, x * 1.44269504088896341f + 12582912.f);
  const int32_t lo = 0x4B400000 - 126, hi = 0x4B400000 + 129;
  const int32_t tc = t < lo ? lo : (t > hi ? hi : t);
  const float n = __builtin_bit_cast(float, tc) - 12582912.f;
  // Below the range the scale is 0; clamping x keeps r (and so the polynomial) finite there.
  const float xc = x < -87.5f ? -87.5f : x;
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p * r, r, r) + 1.f;
  const uint32_t scale_bits = static_cast<uint32_t>(tc - 0x4B400000 + 126) << 23;
  return (p + p) * __builtin_bit_cast(float, scale_bits);
}

}  // namespace peftjs
