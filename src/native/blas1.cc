// Vector update used by gradient accumulation: dst += alpha * src.
#include "napi_util.h"
#include "parallel.h"

// axpy(dst, src, n, alpha)
PEFTJS_FN(axpy) {
  peftjs::Args a(env, info);
  float* dst = a.f32(0);
  const float* src = a.f32(1);
  const int64_t n = a.i64(2);
  const float alpha = static_cast<float>(a.f64(3));
  peftjs::parallel_for(n, 1, [&](int64_t b, int64_t e) {
    if (alpha == 1.f)
      for (int64_t i = b; i < e; i++) dst[i] += src[i];
    else
      for (int64_t i = b; i < e; i++) dst[i] += alpha * src[i];
  });
  return peftjs::undefined(env);
}

// repeatRows(dst, row, rows, cols): dst[r, :] = row for every r (seeds a GEMM output with a bias).
PEFTJS_FN(repeatRows) {
  peftjs::Args a(env, info);
  float* dst = a.f32(0);
  const float* row = a.f32(1);
  const int64_t rows = a.i64(2), cols = a.i64(3);
  peftjs::parallel_for(rows, cols, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      float* out = dst + r * cols;
      for (int64_t c = 0; c < cols; c++) out[c] = row[c];
    }
  });
  return peftjs::undefined(env);
}
