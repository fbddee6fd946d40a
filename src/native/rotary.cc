// Rotary position embedding in the rotate_half layout (HF Llama): for x [B, H, T, D] with halves
// x1, x2 and cos/sin rows of [T, D] (or [B, T, D]),
//   y1 = x1*cos1 - x2*sin1,  y2 = x2*cos2 + x1*sin2.
// The backward is the transposed rotation, the same loop with the sin halves swapped and negated:
//   gx1 = g1*cos1 + g2*sin2,  gx2 = g2*cos2 - g1*sin1.
#include <cmath>
#include "napi_util.h"
#include "parallel.h"

namespace {

// Offset of row (b, h, t) of a [B, H, T, D] tensor, or of the same row of one laid out [B, T, H, D].
inline int64_t row_offset(int64_t b, int64_t h, int64_t t, int64_t H, int64_t T, int64_t D, bool bthd) {
  return (bthd ? (b * T + t) * H + h : (b * H + h) * T + t) * D;
}

template <bool kTransposed>
inline void rotate_row(const float* __restrict xr, const float* __restrict c, const float* __restrict s, float* __restrict yr, int64_t half) {
#pragma omp simd
  for (int64_t j = 0; j < half; j++) {
    const float s_lo = kTransposed ? -s[j + half] : s[j];
    const float s_hi = kTransposed ? -s[j] : s[j + half];
    const float x1 = xr[j], x2 = xr[j + half];
    yr[j] = x1 * c[j] - x2 * s_lo;
    yr[j + half] = x2 * c[j + half] + x1 * s_hi;
  }
}

// Rows are walked in (b, h, t) order with the indices stepped, not divided out of the row number.
template <bool kTransposed>
void rotate_rows(const float* x, const float* cos, const float* sin, float* out, int64_t B, int64_t H, int64_t T,
                 int64_t D, bool batched, bool x_bthd, bool out_bthd) {
  const int64_t half = D / 2;
  peftjs::parallel_for(B * H * T, D, [&](int64_t rb, int64_t re) {
    int64_t b = rb / (H * T), h = (rb / T) % H, t = rb % T;
    for (int64_t r = rb; r < re; r++) {
      const int64_t table_row = ((batched ? b * T : 0) + t) * D;
      rotate_row<kTransposed>(x + row_offset(b, h, t, H, T, D, x_bthd), cos + table_row, sin + table_row,
                              out + row_offset(b, h, t, H, T, D, out_bthd), half);
      if (++t == T) {
        t = 0;
        if (++h == H) h = 0, b++;
      }
    }
  });
}

}  // namespace

// rotaryApply(x, cos, sin, out, B, H, T, D, batchedTable, transposed, xBTHD, outBTHD): x and out
// are [B, H, T, D], or [B, T, H, D] where flagged (so a head split needs no separate copy).
PEFTJS_FN(rotaryApply) {
  peftjs::Args a(env, info);
  const int64_t B = a.i64(4), H = a.i64(5), T = a.i64(6), D = a.i64(7);
  const bool batched = a.flag(8), x_bthd = a.flag(10), out_bthd = a.flag(11);
  if (a.flag(9))
    rotate_rows<true>(a.f32(0), a.f32(1), a.f32(2), a.f32(3), B, H, T, D, batched, x_bthd, out_bthd);
  else
    rotate_rows<false>(a.f32(0), a.f32(1), a.f32(2), a.f32(3), B, H, T, D, batched, x_bthd, out_bthd);
  return peftjs::undefined(env);
}

// rotaryTableGrad(x, g, gcos, gsin, B, H, T, D, batchedTable): gradients of the cos/sin tables,
// gcos = Σ g*x and gsin = Σ g*rotate_half(x) over heads (and over the batch for a [T, D] table).
// Either output may be null when not needed. Each thread owns whole table rows.
PEFTJS_FN(rotaryTableGrad) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  const float* g = a.f32(1);
  float* gcos = a.f32(2);
  float* gsin = a.f32(3);
  const int64_t B = a.i64(4), H = a.i64(5), T = a.i64(6), D = a.i64(7);
  const bool batched = a.flag(8);
  const int64_t half = D / 2;
  const int64_t table_rows = batched ? B * T : T;
  const int64_t sources = batched ? H : B * H;
  peftjs::parallel_for(table_rows, sources * D, [&](int64_t rb, int64_t re) {
    for (int64_t row = rb; row < re; row++) {
      float* gc = gcos == nullptr ? nullptr : gcos + row * D;
      float* gs = gsin == nullptr ? nullptr : gsin + row * D;
      for (int64_t j = 0; j < D; j++) {
        if (gc) gc[j] = 0.f;
        if (gs) gs[j] = 0.f;
      }
      const int64_t t = row % T;
      for (int64_t src = 0; src < sources; src++) {
        const int64_t b = batched ? row / T : src / H, h = src % H;
        const int64_t off = ((b * H + h) * T + t) * D;
        const float* xr = x + off;
        const float* gr = g + off;
        if (gc)
          for (int64_t j = 0; j < D; j++) gc[j] += gr[j] * xr[j];
        if (gs)
          for (int64_t j = 0; j < half; j++) {
            gs[j] -= gr[j] * xr[j + half];
            gs[j + half] += gr[j + half] * xr[j];
          }
      }
    }
  });
  return peftjs::undefined(env);
}

// rotaryTable(positions, count, invFreq, half, cos, sin): cos/sin rows [count, 2*half] of the
// angles position*invFreq[i], repeated over both halves. The angle is rounded to f32 first, as
// transformers computes it, so large positions give the same table.
PEFTJS_FN(rotaryTable) {
  peftjs::Args a(env, info);
  const int32_t* pos = a.i32(0);
  const int64_t count = a.i64(1);
  const float* inv_freq = a.f32(2);
  const int64_t half = a.i64(3);
  float* cos_out = a.f32(4);
  float* sin_out = a.f32(5);
  peftjs::parallel_for(count, half * 40, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; p++) {
      const float position = static_cast<float>(pos[p]);
      float* c = cos_out + p * 2 * half;
      float* s = sin_out + p * 2 * half;
      for (int64_t i = 0; i < half; i++) {
        const double angle = static_cast<double>(position * inv_freq[i]);
        c[i] = c[i + half] = static_cast<float>(std::cos(angle));
        s[i] = s[i + half] = static_cast<float>(std::sin(angle));
      }
    }
  });
  return peftjs::undefined(env);
}
