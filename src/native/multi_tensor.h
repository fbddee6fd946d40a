// Kernels that update many tensors in one call (optimizer steps, gradient clipping): the tensors
// are laid end to end in one index space, so work is split evenly across threads however small or
// uneven the individual tensors are (LoRA has hundreds of small ones).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>
#include "napi_util.h"
#include "parallel.h"

namespace peftjs {

// A JS array of ArrayBuffers holding `width` buffers per tensor (e.g. param, grad, moments), and a
// Float64Array with each tensor's element count.
struct TensorList {
  size_t width;
  std::vector<float*> buffers;
  std::vector<int64_t> offsets;  // offsets[t] = elements in tensors before t; back() = total

  TensorList(const Args& a, size_t buffers_arg, size_t sizes_arg, size_t width_) : width(width_) {
    const double* sizes = doubles(a, sizes_arg);
    const size_t n = typed_length(a, sizes_arg);
    buffers.resize(n * width);
    for (size_t i = 0; i < n * width; i++) {
      napi_value ab;
      napi_get_element(a.env, a.argv[buffers_arg], static_cast<uint32_t>(i), &ab);
      void* data = nullptr;
      size_t len = 0;
      napi_get_arraybuffer_info(a.env, ab, &data, &len);
      buffers[i] = static_cast<float*>(data);
    }
    offsets.resize(n + 1, 0);
    for (size_t t = 0; t < n; t++) offsets[t + 1] = offsets[t] + static_cast<int64_t>(sizes[t]);
  }

  size_t count() const { return offsets.size() - 1; }
  int64_t total() const { return offsets.back(); }
  // Buffer k (0 <= k < width) of tensor t.
  float* buffer(size_t t, size_t k) const { return buffers[t * width + k]; }

  // Runs fn(t, begin, end) over element ranges of the tensors, in parallel across the whole list.
  template <typename F>
  void for_each_range(int64_t cost_per_item, F&& fn) const {
    parallel_for(total(), cost_per_item, [&](int64_t b, int64_t e) {
      size_t t = static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), b) - offsets.begin()) - 1;
      for (; b < e; t++) {
        const int64_t end = std::min(e, offsets[t + 1]);
        if (end > b) fn(t, b - offsets[t], end - offsets[t]);
        b = end;
      }
    });
  }

  static const double* doubles(const Args& a, size_t i) {
    void* data = nullptr;
    napi_get_typedarray_info(a.env, a.argv[i], nullptr, nullptr, &data, nullptr, nullptr);
    return static_cast<const double*>(data);
  }

  static size_t typed_length(const Args& a, size_t i) {
    size_t length = 0;
    napi_get_typedarray_info(a.env, a.argv[i], nullptr, &length, nullptr, nullptr, nullptr);
    return length;
  }
};

}  // namespace peftjs
