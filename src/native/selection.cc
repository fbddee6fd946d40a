// Index-valued selections along one axis of a tensor seen as [outer, n, inner]: argmax and the
// indices of the top k. NaN ranks above every number (as in PyTorch); equal values rank by lower
// index first.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>
#include "napi_util.h"
#include "parallel.h"

namespace {

inline bool ranks_above(float a, float b) { return a > b || (std::isnan(a) && !std::isnan(b)); }

}  // namespace

// argmax(x, out, outer, n, inner): out[o, c] = first a maximising x[o, a, c]
PEFTJS_FN(argmax) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  int32_t* out = a.i32(1);
  const int64_t outer = a.i64(2), n = a.i64(3), inner = a.i64(4);
  peftjs::parallel_for(outer * inner, n, [&](int64_t b, int64_t e) {
    for (int64_t line = b; line < e; line++) {
      const int64_t o = line / inner, c = line - o * inner;
      const float* p = x + o * n * inner + c;
      int64_t best = 0;
      for (int64_t k = 1; k < n; k++)
        if (ranks_above(p[k * inner], p[best * inner])) best = k;
      out[line] = static_cast<int32_t>(best);
    }
  });
  return peftjs::undefined(env);
}

// topkIndices(x, out, outer, n, inner, k, largest): out[o, j, c] = position of the j-th ranked
// x[o, :, c], descending when largest (ascending otherwise); NaN counts as the largest value.
PEFTJS_FN(topkIndices) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  int32_t* out = a.i32(1);
  const int64_t outer = a.i64(2), n = a.i64(3), inner = a.i64(4), k = a.i64(5);
  const bool largest = a.flag(6);
  peftjs::parallel_for(outer * inner, n * 8, [&](int64_t b, int64_t e) {
    std::vector<float> values(static_cast<size_t>(n));
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int64_t line = b; line < e; line++) {
      const int64_t o = line / inner, c = line - o * inner;
      const float* p = x + o * n * inner + c;
      for (int64_t j = 0; j < n; j++) values[j] = p[j * inner];
      std::iota(order.begin(), order.end(), 0);
      auto before = [&](int32_t i, int32_t j) {
        const float vi = values[i], vj = values[j];
        const bool above = largest ? ranks_above(vi, vj) : ranks_above(vj, vi);
        const bool below = largest ? ranks_above(vj, vi) : ranks_above(vi, vj);
        return above || (!below && i < j);
      };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      int32_t* dst = out + o * k * inner + c;
      for (int64_t j = 0; j < k; j++) dst[j * inner] = order[j];
    }
  });
  return peftjs::undefined(env);
}
