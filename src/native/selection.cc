// Index-valued selections along one axis of a tensor seen as [outer, n, inner]: argmax and the
// indices of the top k. NaN ranks above every number (as in PyTorch); equal values rank by lower
// index first.
#include <algorithm>
#include <cmath>
#include <vector>
#include "napi_util.h"
#include "parallel.h"

namespace {

inline bool ranks_above(float a, float b) { return a > b || (std::isnan(a) && !std::isnan(b)); }

struct Entry {
  float value;
  int32_t index;
};


int64_t argmax_strided(const float* p, int64_t n, int64_t stride) {
  int64_t best = 0;
  float best_value = p[0];
  // !(v <= best) is one comparison: true for a larger v or a NaN, and the first NaN wins.
  for (int64_t k = 1; k < n && !std::isnan(best_value); k++) {
    const float v = p[k * stride];
    if (!(v <= best_value)) {
      best = k;
      best_value = v;
    }
  }
  return best;
}

// Two passes over a contiguous row: the maximum (and whether a NaN occurs) with independent lanes
// the compiler vectorises, then the first position holding it.
int64_t argmax_contiguous(const float* p, int64_t n) {
  constexpr int kLanes = 16;
  float lane_max[kLanes];
  bool lane_nan[kLanes];
  for (int l = 0; l < kLanes; l++) {
    lane_max[l] = p[0];
    lane_nan[l] = false;
  }
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; l++) {
      const float v = p[i + l];
      lane_max[l] = v > lane_max[l] ? v : lane_max[l];
      lane_nan[l] |= v != v;
    }
  }
  float max_value = lane_max[0];
  bool has_nan = false;
  for (int l = 0; l < kLanes; l++) {
    max_value = std::max(max_value, lane_max[l]);
    has_nan |= lane_nan[l];
  }
  for (; i < n; i++) {
    max_value = std::max(max_value, p[i]);
    has_nan |= std::isnan(p[i]);
  }
  for (int64_t k = 0; k < n; k++)
    if (has_nan ? std::isnan(p[k]) : p[k] == max_value) return k;
  return 0;
}

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
      out[line] = static_cast<int32_t>(inner == 1 ? argmax_contiguous(p, n) : argmax_strided(p, n, inner));
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
  peftjs::parallel_for(outer * inner, n * 2, [&](int64_t b, int64_t e) {
    // A heap of the k best (value, position) pairs seen so far, worst on top.
    std::vector<Entry> heap;
    heap.reserve(static_cast<size_t>(k));
    const auto before = [largest](const Entry& p, const Entry& q) {
      const bool above = largest ? ranks_above(p.value, q.value) : ranks_above(q.value, p.value);
      const bool below = largest ? ranks_above(q.value, p.value) : ranks_above(p.value, q.value);
      return above || (!below && p.index < q.index);
    };
    for (int64_t line = b; line < e; line++) {
      const int64_t o = line / inner, c = line - o * inner;
      const float* p = x + o * n * inner + c;
      heap.clear();
      const int64_t first = std::min(n, k);
      for (int64_t j = 0; j < first; j++) {
        heap.push_back({p[j * inner], static_cast<int32_t>(j)});
        std::push_heap(heap.begin(), heap.end(), before);
      }
      for (int64_t j = first; j < n && k > 0; j++) {
        const float v = p[j * inner];
        const float worst = heap.front().value;
        // A later position never wins a tie, so most entries are rejected by this one comparison
        // (NaN values, or a NaN worst entry, fall through to the full ordering).
        if (largest ? v <= worst : v >= worst) continue;
        const Entry entry{v, static_cast<int32_t>(j)};
        if (before(entry, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), before);
          heap.back() = entry;
          std::push_heap(heap.begin(), heap.end(), before);
        }
      }
      std::sort_heap(heap.begin(), heap.end(), before);
      int32_t* dst = out + o * k * inner + c;
      for (int64_t j = 0; j < k; j++) dst[j * inner] = heap[j].index;
    }
  });
  return peftjs::undefined(env);
}
