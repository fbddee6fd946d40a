// Conversions between f32 compute buffers and 16-bit storage (bf16, f16), and between index types.
#include <cstring>
#include "napi_util.h"
#include "parallel.h"
#include "half.h"

// castF32ToHalf(src, dst, n, isBf16)
PEFTJS_FN(castF32ToHalf) {
  peftjs::Args a(env, info);
  const float* src = a.f32(0);
  uint16_t* dst = a.u16(1);
  const int64_t n = a.i64(2);
  const bool bf16 = a.flag(3);
  peftjs::parallel_for(n, 2, [&](int64_t b, int64_t e) {
    if (bf16)
      for (int64_t i = b; i < e; i++) dst[i] = peftjs::f32_to_bf16(src[i]);
    else
      for (int64_t i = b; i < e; i++) dst[i] = peftjs::f32_to_f16(src[i]);
  });
  return peftjs::undefined(env);
}

// castHalfToF32(src, dst, n, isBf16)
PEFTJS_FN(castHalfToF32) {
  peftjs::Args a(env, info);
  const uint16_t* src = a.u16(0);
  float* dst = a.f32(1);
  const int64_t n = a.i64(2);
  const bool bf16 = a.flag(3);
  peftjs::parallel_for(n, 2, [&](int64_t b, int64_t e) {
    if (bf16)
      for (int64_t i = b; i < e; i++) dst[i] = peftjs::bf16_to_f32(src[i]);
    else
      for (int64_t i = b; i < e; i++) dst[i] = peftjs::f16_to_f32(src[i]);
  });
  return peftjs::undefined(env);
}

// castF32ToI32(src, dst, n) truncating toward zero, castI32ToF32(src, dst, n)
PEFTJS_FN(castF32ToI32) {
  peftjs::Args a(env, info);
  const float* src = a.f32(0);
  int32_t* dst = a.i32(1);
  const int64_t n = a.i64(2);
  for (int64_t i = 0; i < n; i++) dst[i] = static_cast<int32_t>(src[i]);
  return peftjs::undefined(env);
}

PEFTJS_FN(castI32ToF32) {
  peftjs::Args a(env, info);
  const int32_t* src = a.i32(0);
  float* dst = a.f32(1);
  const int64_t n = a.i64(2);
  for (int64_t i = 0; i < n; i++) dst[i] = static_cast<float>(src[i]);
  return peftjs::undefined(env);
}
