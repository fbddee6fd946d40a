// Broadcasting arithmetic (add, sub, mul, div) on two tensors, walked in the contiguous segments
// that src/engine/ops/broadcast.ts plans, and on a tensor with a number.
#include "broadcast.h"
#include "map.h"

namespace {

struct Add { float operator()(float x, float y) const { return x + y; } };
struct Sub { float operator()(float x, float y) const { return x - y; } };
struct Mul { float operator()(float x, float y) const { return x * y; } };
struct Div { float operator()(float x, float y) const { return x / y; } };

// (a, b, out, dims, strides): strides holds a's strides over dims, then b's.
template <typename Op>
napi_value tensor_tensor(const peftjs::Args& args) {
  const Op op{};
  const float* a = args.f32(0);
  const float* b = args.f32(1);
  float* out = args.f32(2);
  const auto dims = args.ints(3), strides = args.ints(4);
  const size_t nd = dims.size();
  const bool a_moves = strides[nd - 1] != 0, b_moves = strides[2 * nd - 1] != 0;
  peftjs::for_each_segment<2>(dims, strides, 1, [&](int64_t pos, int64_t len, const std::array<int64_t, 2>& off) {
    const float* ap = a + off[0];
    const float* bp = b + off[1];
    float* o = out + pos;
    if (a_moves && b_moves) {
      peftjs::map_range(ap, bp, o, 0, len, op);
    } else if (a_moves) {
      const float bv = *bp;
      peftjs::map_range(ap, o, 0, len, [=](float x) { return op(x, bv); });
    } else {
      const float av = *ap;
      peftjs::map_range(bp, o, 0, len, [=](float y) { return op(av, y); });
    }
  });
  return peftjs::undefined(args.env);
}

// (a, out, n, s): out = a op s.
template <typename Op>
napi_value tensor_scalar(const peftjs::Args& args) {
  const Op op{};
  const float s = static_cast<float>(args.f64(3));
  return peftjs::unary_kernel(args, 1, [=](float x) { return op(x, s); });
}

}  // namespace

PEFTJS_FN(binaryAdd) { return tensor_tensor<Add>(peftjs::Args(env, info)); }
PEFTJS_FN(binarySub) { return tensor_tensor<Sub>(peftjs::Args(env, info)); }
PEFTJS_FN(binaryMul) { return tensor_tensor<Mul>(peftjs::Args(env, info)); }
PEFTJS_FN(binaryDiv) { return tensor_tensor<Div>(peftjs::Args(env, info)); }
PEFTJS_FN(binaryAddScalar) { return tensor_scalar<Add>(peftjs::Args(env, info)); }
PEFTJS_FN(binarySubScalar) { return tensor_scalar<Sub>(peftjs::Args(env, info)); }
PEFTJS_FN(binaryMulScalar) { return tensor_scalar<Mul>(peftjs::Args(env, info)); }
PEFTJS_FN(binaryDivScalar) { return tensor_scalar<Div>(peftjs::Args(env, info)); }
