// Sums a tensor down to a broadcast-compatible shape (the backward of broadcasting). Shapes are
// passed with equal rank; adjacent dims that are all kept or all reduced are merged first, so the
// common cases become a column sum ([R, C] -> [C]) or a row sum ([C, R] -> [C]), both parallel.
#include <vector>
#include "napi_util.h"
#include "parallel.h"

namespace {

struct Dim {
  int64_t size;
  bool reduced;
};

std::vector<Dim> merge_dims(const std::vector<int64_t>& src, const std::vector<int64_t>& dst) {
  std::vector<Dim> dims;
  for (size_t i = 0; i < src.size(); i++) {
    if (src[i] == 1) continue;
    const bool reduced = dst[i] == 1;
    if (!dims.empty() && dims.back().reduced == reduced)
      dims.back().size *= src[i];
    else
      dims.push_back({src[i], reduced});
  }
  return dims;
}

}  // namespace

// sumTo(src, srcShape, dst, dstShape)
PEFTJS_FN(sumTo) {
  peftjs::Args a(env, info);
  const float* src = a.f32(0);
  float* dst = a.f32(2);
  const auto sshape = a.ints(1), dshape = a.ints(3);
  int64_t dst_n = 1, src_n = 1;
  for (auto d : dshape) dst_n *= d;
  for (auto d : sshape) src_n *= d;
  const auto dims = merge_dims(sshape, dshape);
  if (dims.empty() || (dims.size() == 1 && !dims[0].reduced)) {
    for (int64_t i = 0; i < dst_n; i++) dst[i] = src[i];
  } else if (dims.size() == 1) {
    double s = 0;
    for (int64_t i = 0; i < src_n; i++) s += src[i];
    dst[0] = static_cast<float>(s);
  } else if (dims.size() == 2 && dims[0].reduced) {
    const int64_t R = dims[0].size, C = dims[1].size;
    peftjs::parallel_for(C, R, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; c++) dst[c] = 0.f;
      for (int64_t r = 0; r < R; r++) {
        const float* row = src + r * C;
        for (int64_t c = cb; c < ce; c++) dst[c] += row[c];
      }
    });
  } else if (dims.size() == 2) {
    const int64_t C = dims[0].size, R = dims[1].size;
    peftjs::parallel_for(C, R, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; c++) {
        float s = 0.f;
        const float* row = src + c * R;
        for (int64_t r = 0; r < R; r++) s += row[r];
        dst[c] = s;
      }
    });
  } else {
    // General case: walk the source in order and add each element at its destination offset.
    const size_t nd = dims.size();
    std::vector<int64_t> dstride(nd, 0);
    int64_t s = 1;
    for (size_t i = nd; i-- > 0;) {
      if (!dims[i].reduced) {
        dstride[i] = s;
        s *= dims[i].size;
      }
    }
    for (int64_t i = 0; i < dst_n; i++) dst[i] = 0.f;
    std::vector<int64_t> idx(nd, 0);
    int64_t off = 0;
    for (int64_t i = 0; i < src_n; i++) {
      dst[off] += src[i];
      for (size_t d = nd; d-- > 0;) {
        off += dstride[d];
        if (++idx[d] < dims[d].size) break;
        off -= dstride[d] * dims[d].size;
        idx[d] = 0;
      }
    }
  }
  return peftjs::undefined(env);
}
