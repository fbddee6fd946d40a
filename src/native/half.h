// Scalar conversions between f32 and the 16-bit formats, round-to-nearest-even like PyTorch.
#pragma once
#include <cstdint>
#include <cstring>
#include <immintrin.h>

namespace peftjs {

inline uint32_t bits_of(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float float_of(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

inline uint16_t f32_to_bf16(float f) {
  uint32_t u = bits_of(f);
  if ((u & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

inline float bf16_to_f32(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_f16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, 0));
}

inline float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

}  // namespace peftjs
