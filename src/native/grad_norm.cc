// Global gradient norm and in-place rescaling over many tensors, for gradient clipping.
#include <omp.h>
#include <vector>
#include "multi_tensor.h"

// sumOfSquares(buffers: one per tensor, sizes: Float64Array) -> number. Squares are summed in f32
// lanes over short blocks (so the loop vectorises) and the blocks in double, per thread (each thread
// always takes the same ranges), and the threads' sums in thread order: the same total every run.
PEFTJS_FN(sumOfSquares) {
  peftjs::Args a(env, info);
  const peftjs::TensorList list(a, 0, 1, 1);
  constexpr int64_t kBlock = 1024, kLanes = 16;
  std::vector<double> per_thread(static_cast<size_t>(omp_get_max_threads()), 0.0);
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
    per_thread[static_cast<size_t>(omp_get_thread_num())] += sum;
  });
  double total = 0;
  for (const double sum : per_thread) total += sum;
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
