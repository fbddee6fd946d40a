// Global gradient norm and in-place rescaling over many tensors, for gradient clipping.
#include "multi_tensor.h"

// sumOfSquares(buffers: one per tensor, sizes: Float64Array) -> number. Squares are summed in f32
// lanes over short blocks (so the loop vectorises) and the blocks in double.
PEFTJS_FN(sumOfSquares) {
  peftjs::Args a(env, info);
  const peftjs::TensorList list(a, 0, 1, 1);
  constexpr int64_t kBlock = 1024, kLanes = 16;
  double total = 0;
  list.for_each_range(2, [&](size_t t, int64_t b, int64_t e) {
    const float* x = list.buffer(t, 0);
    double sum = 0;
    for (int64_t start = b; start < e; start += kBlock) {
      const int64_t end = std::min(e, start + kBlock);
      float lanes[kLanes] = {};
      int64_t i = start;
      for (; i + kLanes <= end; i += kLanes)
        for (int64_t j = 0; j < kLanes; j++) lanes[j] += x[i + j] * x[i + j];
      for (; i < end; i++) lanes[0] += x[i] * x[i];
      for (int64_t j = 0; j < kLanes; j++) sum += lanes[j];
    }
#pragma omp atomic
    total += sum;
  });
  return peftjs::number(env, total);
}

// scaleInPlace(buffers: one per tensor, sizes: Float64Array, factor)
PEFTJS_FN(scaleInPlace) {
  peftjs::Args a(env, info);
  const peftjs::TensorList list(a, 0, 1, 1);
  const float factor = static_cast<float>(a.f64(2));
  list.for_each_range(1, [&](size_t t, int64_t b, int64_t e) {
    float* x = list.buffer(t, 0);
    for (int64_t i = b; i < e; i++) x[i] *= factor;
  });
  return peftjs::undefined(env);
}
