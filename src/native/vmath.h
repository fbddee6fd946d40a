// Branch-free float math that GCC auto-vectorizes inside plain loops (libm calls would keep those
// loops scalar). Accurate to a few ulp: exp over the whole float range (overflow to inf, underflow
// through the subnormals to 0), log with libm's edges (log 0 = -inf, log of a negative = NaN); NaN
// propagates. The activations build on exp_nonpositive, whose argument is never above 0 there and
// which flushes results below the smallest normal float (about 1.2e-38) to 0 — half the work of exp.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace peftjs::vm {

inline float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// e^x = 2^n·e^r for |x| <= 104: n = round(x/ln2), found by adding 1.5·2^23, whose low mantissa
// bits then hold n (floor() and float-to-int casts would not vectorize under strict IEEE
// semantics); r = x - n·ln2 with ln2 split in two for an exact reduction; e^r from the degree-6
// polynomial of Cephes expf. Callers apply 2^n.
struct ExpSplit {
  float exp_r;
  uint32_t n;  // two's complement
};

inline ExpSplit exp_split(float x) {
  constexpr float kRound = 12582912.f;
  const float shifted = std::fma(x, 1.44269504088896341f, kRound);
  const float n = shifted - kRound;
  float r = std::fma(n, -0.693359375f, x);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  return {std::fma(p, r * r, r) + 1.f, to_bits(shifted) - to_bits(kRound)};
}

// e^x, with 2^n applied in two halves so that results in the subnormal range (and the overflow to
// inf) come out right.
inline float exp(float x) {
  const ExpSplit s = exp_split(std::min(std::max(x, -104.f), 89.f));  // NaN passes both bounds
  const uint32_t half = static_cast<uint32_t>(static_cast<int32_t>(s.n) >> 1);
  return s.exp_r * from_bits((half + 127) << 23) * from_bits((s.n - half + 127) << 23);
}

// e^x over the whole range for the softmax/cross-entropy row loops. Cody-Waite range reduction x = n·ln2 + r, a degree-6 polynomial for e^r on
// [-ln2/2, ln2/2] (Cephes coefficients, ~1 ulp), then scaling by 2·2^(n-1) through the exponent
// bits. n is clamped to [-126, 129] as an integer, where 2^(n-1) becomes 0 or +inf: results below
// ~1e-38 flush to exactly +0 (so -inf masks give 0), overflow gives +inf, and NaN stays NaN.
// Clamping in the integer domain keeps the loop free of float selects, which GCC would otherwise
// if-convert into several masked copies of the polynomial.
inline float exp_flush(float x) {
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


// x, or +0 where x is subnormal. Gradients that end up in a GEMM pass through it: a subnormal
// operand costs each multiply-add a microcode assist on x86, slowing the GEMM several times over
// (the far tail of a peaked softmax times 1/N in a cross-entropy gradient lands there).
inline float flush_subnormal(float x) {
  const uint32_t bits = __builtin_bit_cast(uint32_t, x);
  return (bits & 0x7F800000u) == 0 ? 0.f : x;
}

// e^x for x <= 0 (or NaN): n stays in [-126, 0], so one power of two scales the result; results
// that would be subnormal are flushed to 0.
inline float exp_nonpositive(float x) {
  constexpr float kMin = -87.3365479f;  // ln of the smallest normal float
  const ExpSplit s = exp_split(std::max(x, kMin));
  // The flush is chosen on the integer scale: a float select would let GCC branch around exp_r.
  return s.exp_r * from_bits(x < kMin ? 0u : (s.n + 127) << 23);
}

// ln x: x = m·2^e with m in [sqrt(1/2), sqrt(2)), a degree-8 polynomial in m - 1 (Cephes logf
// coefficients), subnormals rescaled by 2^23 first.
inline float log(float x) {
  const bool subnormal = x < 1.17549435e-38f;
  const float xs = x * (subnormal ? 8388608.f : 1.f);
  const uint32_t u = to_bits(xs);
  // m = mantissa scaled into [sqrt(1/2), sqrt(2)), chosen on the bits so no float op is conditional.
  const uint32_t mant = u & 0x007fffff;
  const bool low = mant < 0x003504f3;  // mantissa of sqrt(1/2)
  const int32_t e = static_cast<int32_t>((u >> 23) & 0xff) - (subnormal ? 149 : 126) - (low ? 1 : 0);
  const float m = from_bits(mant | (low ? 0x3f800000u : 0x3f000000u)) - 1.f;
  const float z = m * m;
  float p = 7.0376836292e-2f;
  p = std::fma(p, m, -1.1514610310e-1f);
  p = std::fma(p, m, 1.1676998740e-1f);
  p = std::fma(p, m, -1.2420140846e-1f);
  p = std::fma(p, m, 1.4249322787e-1f);
  p = std::fma(p, m, -1.6668057665e-1f);
  p = std::fma(p, m, 2.0000714765e-1f);
  p = std::fma(p, m, -2.4999993993e-1f);
  p = std::fma(p, m, 3.3333331174e-1f);
  const float fe = static_cast<float>(e);
  float y = p * m * z;
  y = std::fma(fe, -2.12194440e-4f, y);
  y = std::fma(z, -0.5f, y);
  y = std::fma(fe, 0.693359375f, m + y);
  // Edge cases are blended in on the bits: a float select here would let GCC move the polynomial
  // under a branch, which it then cannot vectorize.
  const float edge = x == INFINITY ? x : (x == 0.f ? -INFINITY : NAN);
  const uint32_t regular = (x > 0.f) & (x < INFINITY) ? ~0u : 0u;
  return from_bits((to_bits(y) & regular) | (to_bits(edge) & ~regular));
}

// σ(x) from e = e^-|x|: 1/(1 + e) for x >= 0 and e/(1 + e) below, accurate in both tails.
inline float sigmoid(float x) {
  const float e = exp_nonpositive(-std::fabs(x));
  const float s = 1.f / (1.f + e);
  return x < 0.f ? e * s : s;
}

// tanh: an odd polynomial near 0 (Cephes tanhf), where (1 - e)/(1 + e) with e = e^-2|x| would
// cancel; that form elsewhere, saturating to ±1.
inline float tanh(float x) {
  const float ax = std::fabs(x);
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = std::fma(p, z, 2.06390887954e-2f);
  p = std::fma(p, z, -5.37397155531e-2f);
  p = std::fma(p, z, 1.33314422036e-1f);
  p = std::fma(p, z, -3.33332819422e-1f);
  const float small = std::fma(p * z, x, x);
  const float e = exp_nonpositive(-2.f * ax);
  const float large = std::copysign((1.f - e) / (1.f + e), x);
  return ax < 0.625f ? small : large;
}

// Standard normal CDF Φ(x) = ½·erfc(-x/√2) with erfc from the Chebyshev fit of Numerical Recipes
// (fractional error < 1.2e-7 for all arguments), so Φ keeps full relative accuracy in the left
// tail where 1 + erf(x/√2) would cancel.
inline float normal_cdf(float x) {
  const float z = std::fabs(x) * 0.70710678118654752f;
  const float t = 1.f / std::fma(0.5f, z, 1.f);
  float p = 0.17087277f;
  p = std::fma(p, t, -0.82215223f);
  p = std::fma(p, t, 1.48851587f);
  p = std::fma(p, t, -1.13520398f);
  p = std::fma(p, t, 0.27886807f);
  p = std::fma(p, t, -0.18628806f);
  p = std::fma(p, t, 0.09678418f);
  p = std::fma(p, t, 0.37409196f);
  p = std::fma(p, t, 1.00002368f);
  p = std::fma(p, t, -1.26551223f);
  // ½·erfc(|x|/√2); the exponent -x²/2 + p takes one rounding (x itself, not the rounded z, is
  // squared), which keeps the left tail within a few ulp times x².
  const float tail = 0.5f * t * exp_nonpositive(std::fma(-0.5f * x, x, p));
  return x < 0.f ? tail : 1.f - tail;
}

// Standard normal density φ(x).
inline float normal_pdf(float x) { return 0.39894228040143268f * exp_nonpositive(-0.5f * x * x); }

}  // namespace peftjs::vm
