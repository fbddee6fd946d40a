// A branch-free f32 exp that GCC vectorises inside `#pragma omp simd` loops (libm's expf does not
// vectorise without -ffast-math). Cody-Waite range reduction x = n·ln2 + r, a degree-6 polynomial
// for e^r on [-ln2/2, ln2/2] (Cephes coefficients, ~1 ulp), then scaling by 2·2^(n-1) through the
// exponent bits (2^(n-1) stays a normal number over the whole range). Results below ~2e-38 flush
// to exactly 0 (so -inf masks give 0), overflow gives +inf, and NaN stays NaN.
#pragma once
#include <cmath>
#include <cstdint>

namespace peftjs {

inline float exp_poly(float x) {
  const float lo = -86.64f, hi = 88.72283f;
  float xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  // Adding and subtracting 1.5·2^23 rounds to the nearest integer in the current rounding mode.
  const float n = (xc * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p * r, r, r) + 1.f;
  const int32_t bits = (static_cast<int32_t>(n) + 126) << 23;
  const float y = (p + p) * __builtin_bit_cast(float, bits);
  return x < lo ? 0.f : (x > hi ? INFINITY : y);
}

}  // namespace peftjs
