// Work split for ops over a tensor seen as [outer, n, inner] along one axis: the (outer, column)
// lines are cut into contiguous chunks of whole cache lines, so threads own disjoint columns of the
// output (or gradient) and never write to the same cache line.
#pragma once
#include <algorithm>
#include <cstdint>
#include "parallel.h"

namespace peftjs {

constexpr int64_t kColumnBlock = 16;  // 64 bytes of f32

// Calls fn(o, c0, c1) for column ranges [c0, c1) of outer slice o, covering every (o, c) once.
template <typename F>
inline void for_column_blocks(int64_t outer, int64_t inner, int64_t cost_per_column, F&& fn) {
  const int64_t blocks = (inner + kColumnBlock - 1) / kColumnBlock;
  parallel_for(outer * blocks, cost_per_column * std::min(inner, kColumnBlock), [&](int64_t b, int64_t e) {
    for (int64_t o = b / blocks; o * blocks < e; o++) {
      const int64_t c0 = std::max<int64_t>(b - o * blocks, 0) * kColumnBlock;
      const int64_t c1 = std::min(std::min<int64_t>(e - o * blocks, blocks) * kColumnBlock, inner);
      fn(o, c0, c1);
    }
  });
}

}  // namespace peftjs
