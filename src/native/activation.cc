// Activations: tanh, sigmoid, relu, gelu (erf and tanh forms, as torch.nn.functional.gelu), silu,
// and silu(gate)·up fused (the gated MLP).
// Forward kernels (x, out, n); gradient kernels (saved, g, gx, n) compute the derivative from the
// saved input or output in the same pass that applies it to g.
#include "vector_width.h"
#include "map.h"
#include "vmath.h"

using peftjs::Args;
using peftjs::grad_kernel;
using peftjs::unary_kernel;
namespace vm = peftjs::vm;

PEFTJS_FN(unaryTanh) { return unary_kernel(Args(env, info), 12, [](float x) { return vm::tanh(x); }); }
// from the output y = tanh x
PEFTJS_FN(unaryTanhGrad) { return grad_kernel(Args(env, info), 1, [](float y, float g) { return g * (1.f - y * y); }); }

PEFTJS_FN(unarySigmoid) { return unary_kernel(Args(env, info), 10, [](float x) { return vm::sigmoid(x); }); }
// from the output y = σ(x)
PEFTJS_FN(unarySigmoidGrad) {
  return grad_kernel(Args(env, info), 1, [](float y, float g) { return g * y * (1.f - y); });
}

// x < 0 ? 0 : x keeps NaN, as torch does.
PEFTJS_FN(unaryRelu) { return unary_kernel(Args(env, info), 1, [](float x) { return x < 0.f ? 0.f : x; }); }
// from the output: g where y > 0 (so 0 at x = 0, as torch)
PEFTJS_FN(unaryReluGrad) { return grad_kernel(Args(env, info), 1, [](float y, float g) { return y > 0.f ? g : 0.f; }); }

// gelu(x) = x·Φ(x)
PEFTJS_FN(unaryGeluErf) { return unary_kernel(Args(env, info), 16, [](float x) { return x * vm::normal_cdf(x); }); }
// d/dx = Φ(x) + x·φ(x)
PEFTJS_FN(unaryGeluErfGrad) {
  return grad_kernel(Args(env, info), 24, [](float x, float g) { return g * (vm::normal_cdf(x) + x * vm::normal_pdf(x)); });
}

namespace {

constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kGeluCubic = 0.044715f;

// ½(1 + tanh u) with u = √(2/π)(x + 0.044715x³), written as σ(2u) so the left tail does not cancel.
inline float gelu_tanh_gate(float x) {
  const float u = kSqrt2OverPi * std::fma(kGeluCubic * x, x * x, x);
  return vm::sigmoid(2.f * u);
}

}  // namespace

PEFTJS_FN(unaryGeluTanh) { return unary_kernel(Args(env, info), 14, [](float x) { return x * gelu_tanh_gate(x); }); }
// d/dx = s + x·(1 - tanh²u)/2·u' with s = σ(2u), 1 - tanh²u = 4s(1 - s), u' = √(2/π)(1 + 3·0.044715x²)
PEFTJS_FN(unaryGeluTanhGrad) {
  return grad_kernel(Args(env, info), 16, [](float x, float g) {
    const float s = gelu_tanh_gate(x);
    const float du = kSqrt2OverPi * std::fma(3.f * kGeluCubic * x, x, 1.f);
    return g * std::fma(2.f * x * s * (1.f - s), du, s);
  });
}

// silu(x) = x·σ(x)
PEFTJS_FN(unarySilu) { return unary_kernel(Args(env, info), 10, [](float x) { return x * vm::sigmoid(x); }); }
// d/dx = σ(x)(1 + x(1 - σ(x)))
PEFTJS_FN(unarySiluGrad) {
  return grad_kernel(Args(env, info), 10, [](float x, float g) {
    const float s = vm::sigmoid(x);
    return g * s * std::fma(x, 1.f - s, 1.f);
  });
}

// siluMul(gate, up, out, n): out = silu(gate)·up, the gated MLP of Llama-style models in one pass.
PEFTJS_FN(siluMul) {
  Args a(env, info);
  const float* __restrict__ gate = a.f32(0);
  const float* __restrict__ up = a.f32(1);
  float* __restrict__ out = a.f32(2);
  peftjs::parallel_for(a.i64(3), 12, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) out[i] = gate[i] * vm::sigmoid(gate[i]) * up[i];
  });
  return peftjs::undefined(env);
}

// siluMulGrad(gate, up, g, dgate|null, dup|null, n): dgate = g·up·silu'(gate), dup = g·silu(gate).
PEFTJS_FN(siluMulGrad) {
  Args a(env, info);
  const float* __restrict__ gate = a.f32(0);
  const float* __restrict__ up = a.f32(1);
  const float* __restrict__ g = a.f32(2);
  float* __restrict__ dgate = a.f32(3);
  float* __restrict__ dup = a.f32(4);
  // One branch-free loop per case, so each vectorizes.
  peftjs::parallel_for(a.i64(5), 16, [&](int64_t b, int64_t e) {
    if (dgate != nullptr && dup != nullptr) {
      for (int64_t i = b; i < e; i++) {
        const float x = gate[i], s = vm::sigmoid(x);
        dgate[i] = g[i] * up[i] * s * std::fma(x, 1.f - s, 1.f);
        dup[i] = g[i] * x * s;
      }
    } else if (dgate != nullptr) {
      for (int64_t i = b; i < e; i++) {
        const float x = gate[i], s = vm::sigmoid(x);
        dgate[i] = g[i] * up[i] * s * std::fma(x, 1.f - s, 1.f);
      }
    } else if (dup != nullptr) {
      for (int64_t i = b; i < e; i++) dup[i] = g[i] * gate[i] * vm::sigmoid(gate[i]);
    }
  });
  return peftjs::undefined(env);
}
