// Fused AdamW step over every parameter of an optimizer in one call, with torch.optim.AdamW's
// arithmetic: decoupled weight decay, then the moment updates, then the bias-corrected step.
#include <cmath>
#include "multi_tensor.h"

namespace {

// Per-parameter coefficients, precomputed in double by the caller (see src/train/optimizer.ts).
struct AdamWCoefficients {
  float decay;      // 1 - lr * weight_decay
  float one_minus_beta1;
  float beta2;
  float one_minus_beta2;
  float eps;
  float step_size;  // lr / (1 - beta1^step)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^step)
};

constexpr size_t kCoefficients = 7;

}  // namespace

// adamwStep(buffers: [param, grad, expAvg, expAvgSq] per tensor, sizes: Float64Array,
//           coefficients: Float64Array of 7 per tensor in AdamWCoefficients order)
PEFTJS_FN(adamwStep) {
  peftjs::Args a(env, info);
  const peftjs::TensorList list(a, 0, 1, 4);
  const double* raw = peftjs::TensorList::doubles(a, 2);
  std::vector<AdamWCoefficients> coef(list.count());
  for (size_t t = 0; t < list.count(); t++) {
    const double* c = raw + t * kCoefficients;
    coef[t] = {static_cast<float>(c[0]), static_cast<float>(c[1]), static_cast<float>(c[2]),
               static_cast<float>(c[3]), static_cast<float>(c[4]), static_cast<float>(c[5]),
               static_cast<float>(c[6])};
  }
  list.for_each_range(16, [&](size_t t, int64_t b, int64_t e) {
    float* __restrict p = list.buffer(t, 0);
    const float* __restrict g = list.buffer(t, 1);
    float* __restrict m = list.buffer(t, 2);
    float* __restrict v = list.buffer(t, 3);
    const AdamWCoefficients c = coef[t];
    for (int64_t i = b; i < e; i++) {
      const float param = p[i] * c.decay;
      const float grad = g[i];
      const float avg = m[i] + c.one_minus_beta1 * (grad - m[i]);
      const float avg_sq = v[i] * c.beta2 + c.one_minus_beta2 * (grad * grad);
      const float denom = std::sqrt(avg_sq) / c.bias_correction2_sqrt + c.eps;
      m[i] = avg;
      v[i] = avg_sq;
      p[i] = param - c.step_size * avg / denom;
    }
  });
  return peftjs::undefined(env);
}
