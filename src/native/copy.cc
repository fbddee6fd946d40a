// Strided gather into a contiguous buffer: the kernel behind permute, expand (broadcast), slice and
// any other view that must be made contiguous. Works on 4-byte or 2-byte elements.
#include <vector>
#include "napi_util.h"
#include "parallel.h"

namespace {

template <typename T>
void strided_copy(const T* src, int64_t offset, T* dst, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& strides) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  int64_t total = 1;
  for (auto s : shape) total *= s;
  if (total == 0) return;
  const int64_t inner = nd > 0 ? shape[nd - 1] : 1;
  const int64_t inner_stride = nd > 0 ? strides[nd - 1] : 1;
  const int64_t rows = total / inner;
  peftjs::parallel_for(rows, inner, [&](int64_t rb, int64_t re) {
    std::vector<int64_t> idx(nd > 0 ? nd - 1 : 0, 0);
    int64_t rem = rb;
    for (int64_t d = nd - 2; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (int64_t r = rb; r < re; r++) {
      int64_t base = offset;
      for (int64_t d = 0; d < nd - 1; d++) base += idx[d] * strides[d];
      T* out = dst + r * inner;
      const T* in = src + base;
      if (inner_stride == 1)
        for (int64_t i = 0; i < inner; i++) out[i] = in[i];
      else
        for (int64_t i = 0; i < inner; i++) out[i] = in[i * inner_stride];
      for (int64_t d = nd - 2; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  });
}

}  // namespace

// stridedCopy(src, offsetElems, dst, shape:Int32Array, strides:Int32Array, elemBytes)
PEFTJS_FN(stridedCopy) {
  peftjs::Args a(env, info);
  const auto shape = a.ints(3), strides = a.ints(4);
  if (a.i64(5) == 2)
    strided_copy(a.buf<uint16_t>(0), a.i64(1), a.buf<uint16_t>(2), shape, strides);
  else
    strided_copy(a.buf<uint32_t>(0), a.i64(1), a.buf<uint32_t>(2), shape, strides);
  return peftjs::undefined(env);
}

// fillF32(buf, n, value)
PEFTJS_FN(fillF32) {
  peftjs::Args a(env, info);
  float* out = a.f32(0);
  const int64_t n = a.i64(1);
  const float v = static_cast<float>(a.f64(2));
  peftjs::parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) out[i] = v;
  });
  return peftjs::undefined(env);
}

// stridedAssign(src, dst, dstOffset, shape, dstStrides, accumulate): writes (or adds) a contiguous
// f32 source into a strided region of dst — the backward of slice and the kernel behind setSlice.
PEFTJS_FN(stridedAssign) {
  peftjs::Args a(env, info);
  const float* src = a.f32(0);
  float* dst = a.f32(1);
  const int64_t offset = a.i64(2);
  const auto shape = a.ints(3), strides = a.ints(4);
  const bool acc = a.flag(5);
  const int64_t nd = static_cast<int64_t>(shape.size());
  int64_t total = 1;
  for (auto s : shape) total *= s;
  if (total == 0) return peftjs::undefined(env);
  const int64_t inner = nd > 0 ? shape[nd - 1] : 1;
  const int64_t inner_stride = nd > 0 ? strides[nd - 1] : 1;
  const int64_t rows = total / inner;
  peftjs::parallel_for(rows, inner, [&](int64_t rb, int64_t re) {
    std::vector<int64_t> idx(nd > 0 ? nd - 1 : 0, 0);
    int64_t rem = rb;
    for (int64_t d = nd - 2; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (int64_t r = rb; r < re; r++) {
      int64_t base = offset;
      for (int64_t d = 0; d < nd - 1; d++) base += idx[d] * strides[d];
      const float* in = src + r * inner;
      float* out = dst + base;
      if (acc)
        for (int64_t i = 0; i < inner; i++) out[i * inner_stride] += in[i];
      else
        for (int64_t i = 0; i < inner; i++) out[i * inner_stride] = in[i];
      for (int64_t d = nd - 2; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  });
  return peftjs::undefined(env);
}
