// Index lookups along one axis of a tensor seen as [outer, n, inner], and their scatter-add
// backwards. indexSelect (and embedding, outer = 1) copies whole inner rows picked by a shared 1-D
// index; gather picks one element per output position. The backwards split work by column ranges
// (for_column_blocks), so every gradient element belongs to one thread: no atomics, no per-thread
// copies, and an embedding gradient is balanced across threads however the ids repeat. Each thread
// also zeroes its own part of the gradient first, so that pass (and the first touch of a fresh
// buffer) is parallel too.
#include <cstring>
#include "columns.h"
#include "napi_util.h"
#include "parallel.h"

namespace {

template <typename T>
void gather_along(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t nx, int64_t ni, int64_t inner) {
  peftjs::for_column_blocks(outer, inner, ni, [&](int64_t o, int64_t c0, int64_t c1) {
    for (int64_t a = 0; a < ni; a++) {
      const int64_t row = (o * ni + a) * inner;
      for (int64_t c = c0; c < c1; c++) out[row + c] = x[(o * nx + idx[row + c]) * inner + c];
    }
  });
}

void zero_columns(float* rows, int64_t count, int64_t inner, int64_t c0, int64_t c1) {
  if (c0 == 0 && c1 == inner) {
    std::memset(rows, 0, static_cast<size_t>(count * inner) * sizeof(float));
    return;
  }
  for (int64_t r = 0; r < count; r++) std::memset(rows + r * inner + c0, 0, static_cast<size_t>(c1 - c0) * sizeof(float));
}

}  // namespace

// indexSelect(x, index, out, outer, nX, nIndex, inner, elemBytes): out[o, a, :] = x[o, index[a], :]
PEFTJS_FN(indexSelect) {
  peftjs::Args a(env, info);
  const char* x = a.buf<char>(0);
  const int32_t* idx = a.i32(1);
  char* out = a.buf<char>(2);
  const int64_t outer = a.i64(3), nx = a.i64(4), ni = a.i64(5), inner = a.i64(6), eb = a.i64(7);
  const size_t row_bytes = static_cast<size_t>(inner * eb);
  if (row_bytes == 0) return peftjs::undefined(env);
  peftjs::parallel_for(outer * ni, inner, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t o = r / ni;
      std::memcpy(out + r * row_bytes, x + (o * nx + idx[r - o * ni]) * row_bytes, row_bytes);
    }
  });
  return peftjs::undefined(env);
}

// indexAdd(g, index, gx, outer, nX, nIndex, inner, skipRow): gx = 0, then gx[o, index[a], :] +=
// g[o, a, :] for every a except those with index[a] == skipRow (embedding's padding row; -1: none).
PEFTJS_FN(indexAdd) {
  peftjs::Args a(env, info);
  const float* g = a.f32(0);
  const int32_t* idx = a.i32(1);
  float* gx = a.f32(2);
  const int64_t outer = a.i64(3), nx = a.i64(4), ni = a.i64(5), inner = a.i64(6), skip = a.i64(7);
  peftjs::for_column_blocks(outer, inner, ni + nx, [&](int64_t o, int64_t c0, int64_t c1) {
    zero_columns(gx + o * nx * inner, nx, inner, c0, c1);
    for (int64_t k = 0; k < ni; k++) {
      if (idx[k] == skip) continue;
      const float* src = g + (o * ni + k) * inner;
      float* dst = gx + (o * nx + idx[k]) * inner;
      for (int64_t c = c0; c < c1; c++) dst[c] += src[c];
    }
  });
  return peftjs::undefined(env);
}

// gatherAlong(x, index, out, outer, nX, nIndex, inner, elemBytes):
// out[o, a, c] = x[o, index[o, a, c], c]
PEFTJS_FN(gatherAlong) {
  peftjs::Args a(env, info);
  const int32_t* idx = a.i32(1);
  const int64_t outer = a.i64(3), nx = a.i64(4), ni = a.i64(5), inner = a.i64(6);
  if (a.i64(7) == 2)
    gather_along(a.buf<uint16_t>(0), idx, a.buf<uint16_t>(2), outer, nx, ni, inner);
  else
    gather_along(a.buf<uint32_t>(0), idx, a.buf<uint32_t>(2), outer, nx, ni, inner);
  return peftjs::undefined(env);
}

// scatterAddAlong(g, index, gx, outer, nX, nIndex, inner): gx = 0, then
// gx[o, index[o, a, c], c] += g[o, a, c]
PEFTJS_FN(scatterAddAlong) {
  peftjs::Args a(env, info);
  const float* g = a.f32(0);
  const int32_t* idx = a.i32(1);
  float* gx = a.f32(2);
  const int64_t outer = a.i64(3), nx = a.i64(4), ni = a.i64(5), inner = a.i64(6);
  peftjs::for_column_blocks(outer, inner, ni + nx, [&](int64_t o, int64_t c0, int64_t c1) {
    zero_columns(gx + o * nx * inner, nx, inner, c0, c1);
    for (int64_t k = 0; k < ni; k++) {
      const int64_t row = (o * ni + k) * inner;
      for (int64_t c = c0; c < c1; c++) gx[(o * nx + idx[row + c]) * inner + c] += g[row + c];
    }
  });
  return peftjs::undefined(env);
}
