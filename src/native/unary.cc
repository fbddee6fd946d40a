// Pointwise math: exp, log, sqrt, rsqrt, abs, pow (scalar exponent), clamp, neg. Each op has a
// forward kernel (x, out, n, ...params) and a one-pass gradient kernel (saved, g, gx, n, ...params)
// that reads the forward's input or output, whichever the derivative is cheaper from.
#include "vector_width.h"
#include <algorithm>
#include <cmath>
#include "map.h"
#include "vmath.h"

using peftjs::Args;
using peftjs::grad_kernel;
using peftjs::unary_kernel;

PEFTJS_FN(unaryNeg) { return unary_kernel(Args(env, info), 1, [](float x) { return -x; }); }

PEFTJS_FN(unaryExp) { return unary_kernel(Args(env, info), 8, [](float x) { return peftjs::vm::exp(x); }); }
// from the output y = e^x
PEFTJS_FN(unaryExpGrad) { return grad_kernel(Args(env, info), 1, [](float y, float g) { return g * y; }); }

PEFTJS_FN(unaryLog) { return unary_kernel(Args(env, info), 8, [](float x) { return peftjs::vm::log(x); }); }
PEFTJS_FN(unaryLogGrad) { return grad_kernel(Args(env, info), 2, [](float x, float g) { return g / x; }); }

PEFTJS_FN(unarySqrt) { return unary_kernel(Args(env, info), 4, [](float x) { return std::sqrt(x); }); }
// from the output y = √x
PEFTJS_FN(unarySqrtGrad) { return grad_kernel(Args(env, info), 2, [](float y, float g) { return g / (2.f * y); }); }

PEFTJS_FN(unaryRsqrt) { return unary_kernel(Args(env, info), 4, [](float x) { return 1.f / std::sqrt(x); }); }
// from the output y = x^-½: dy/dx = -½·y³
PEFTJS_FN(unaryRsqrtGrad) {
  return grad_kernel(Args(env, info), 1, [](float y, float g) { return -0.5f * g * y * y * y; });
}

PEFTJS_FN(unaryAbs) { return unary_kernel(Args(env, info), 1, [](float x) { return std::fabs(x); }); }
// sign(x)·g, with sign(0) = 0
PEFTJS_FN(unaryAbsGrad) {
  return grad_kernel(Args(env, info), 1, [](float x, float g) { return g * static_cast<float>((x > 0.f) - (x < 0.f)); });
}

namespace {

// Calls use(f) with f(x) = x^p, picking exact vectorizable forms for the common exponents.
template <typename Use>
napi_value with_power(float p, Use use) {
  if (p == 0.f) return use([](float) { return 1.f; });
  if (p == 1.f) return use([](float x) { return x; });
  if (p == 2.f) return use([](float x) { return x * x; });
  if (p == 3.f) return use([](float x) { return x * x * x; });
  if (p == 0.5f) return use([](float x) { return std::sqrt(x); });
  if (p == -0.5f) return use([](float x) { return 1.f / std::sqrt(x); });
  if (p == -1.f) return use([](float x) { return 1.f / x; });
  if (p == -2.f) return use([](float x) { return 1.f / (x * x); });
  return use([=](float x) { return std::pow(x, p); });
}

}  // namespace

// unaryPow(x, out, n, p)
PEFTJS_FN(unaryPow) {
  Args a(env, info);
  return with_power(static_cast<float>(a.f64(3)), [&](auto power) { return unary_kernel(a, 8, power); });
}

// unaryPowGrad(x, g, gx, n, p): p·x^(p-1)·g, and 0 for p = 0 (where x^-1 may be inf).
PEFTJS_FN(unaryPowGrad) {
  Args a(env, info);
  const float p = static_cast<float>(a.f64(4));
  if (p == 0.f) return grad_kernel(a, 1, [](float, float) { return 0.f; });
  return with_power(p - 1.f, [&](auto power) {
    return grad_kernel(a, 8, [=](float x, float g) { return g * p * power(x); });
  });
}

// unaryClamp(x, out, n, min, max): NaN stays NaN; min > max gives max everywhere.
PEFTJS_FN(unaryClamp) {
  Args a(env, info);
  const float lo = static_cast<float>(a.f64(3)), hi = static_cast<float>(a.f64(4));
  return unary_kernel(a, 1, [=](float x) { return std::min(std::max(x, lo), hi); });
}

// unaryClampGrad(x, g, gx, n, min, max): g inside [min, max], bounds included; 0 outside.
PEFTJS_FN(unaryClampGrad) {
  Args a(env, info);
  const float lo = static_cast<float>(a.f64(4)), hi = static_cast<float>(a.f64(5));
  return grad_kernel(a, 1, [=](float x, float g) { return (x >= lo) & (x <= hi) ? g : 0.f; });
}
