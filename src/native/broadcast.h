// Iteration for broadcasting elementwise ops. The TypeScript planner merges the output dims so that
// only the dims where some operand's layout changes remain: same-shape operands collapse to one
// contiguous run, [N, C] with [C] to N runs of C, [B, H, T, S] with [1, 1, T, S] to B·H runs of
// T·S. The output is walked in those contiguous runs ("segments"); within a segment each operand's
// innermost stride is 1 (it advances with the output) or 0 (it holds one value).
#pragma once
#include <algorithm>
#include <array>
#include <vector>
#include "parallel.h"

namespace peftjs {

// dims: merged output dims, outer to inner; strides[k * nd + d]: operand k's element stride along
// dim d (0 where it broadcasts). Calls fn(out_pos, len, offsets) for consecutive segments, where
// offsets[k] is operand k's element offset at out_pos. Threads split the output evenly, segment
// boundaries included.
template <int K, typename F>
void for_each_segment(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, int64_t cost, F&& fn) {
  const int64_t nd = static_cast<int64_t>(dims.size());
  int64_t total = 1;
  for (auto d : dims) total *= d;
  if (total == 0) return;
  const int64_t inner = dims[nd - 1];
  parallel_for(total, cost, [&](int64_t begin, int64_t end) {
    // Output position -> index over the outer dims and each operand's offset.
    std::vector<int64_t> idx(nd, 0);
    std::array<int64_t, K> base{};
    int64_t rem = begin / inner;
    for (int64_t d = nd - 2; d >= 0; d--) {
      idx[d] = rem % dims[d];
      rem /= dims[d];
      for (int k = 0; k < K; k++) base[k] += idx[d] * strides[k * nd + d];
    }
    int64_t col = begin % inner;
    for (int64_t pos = begin; pos < end;) {
      const int64_t len = std::min(inner - col, end - pos);
      std::array<int64_t, K> off;
      for (int k = 0; k < K; k++) off[k] = base[k] + col * strides[k * nd + nd - 1];
      fn(pos, len, off);
      pos += len;
      col = 0;
      for (int64_t d = nd - 2; d >= 0; d--) {
        for (int k = 0; k < K; k++) base[k] += strides[k * nd + d];
        if (++idx[d] < dims[d]) break;
        for (int k = 0; k < K; k++) base[k] -= strides[k * nd + d] * dims[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace peftjs
