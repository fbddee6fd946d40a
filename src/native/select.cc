// where(cond, a, b) over broadcast operands: the kernel behind where, maskedFill and their
// gradients. cond is int32, any non-zero value selecting a.
#include "broadcast.h"
#include "napi_util.h"

namespace {

// One segment, with each operand either advancing (true) or held (false).
template <bool C, bool A, bool B>
void select_run(const int32_t* __restrict__ c, const float* __restrict__ a, const float* __restrict__ b,
                float* __restrict__ out, int64_t len) {
  for (int64_t i = 0; i < len; i++) out[i] = c[C ? i : 0] != 0 ? a[A ? i : 0] : b[B ? i : 0];
}

using RunFn = void (*)(const int32_t*, const float*, const float*, float*, int64_t);

template <bool C, bool A, bool B>
constexpr RunFn run_of() {
  return select_run<C, A, B>;
}

constexpr RunFn kRuns[8] = {
    run_of<false, false, false>(), run_of<false, false, true>(), run_of<false, true, false>(), run_of<false, true, true>(),
    run_of<true, false, false>(),  run_of<true, false, true>(),  run_of<true, true, false>(),  run_of<true, true, true>(),
};

}  // namespace

// whereSelect(cond, a, b, out, dims, strides): strides holds cond's, a's, then b's over dims.
PEFTJS_FN(whereSelect) {
  peftjs::Args args(env, info);
  const int32_t* c = args.i32(0);
  const float* a = args.f32(1);
  const float* b = args.f32(2);
  float* out = args.f32(3);
  const auto dims = args.ints(4), strides = args.ints(5);
  const size_t nd = dims.size();
  const int pattern = (strides[nd - 1] != 0) << 2 | (strides[2 * nd - 1] != 0) << 1 | (strides[3 * nd - 1] != 0);
  const RunFn run = kRuns[pattern];
  peftjs::for_each_segment<3>(dims, strides, 1, [&](int64_t pos, int64_t len, const std::array<int64_t, 3>& off) {
    run(c + off[0], a + off[1], b + off[2], out + pos, len);
  });
  return peftjs::undefined(env);
}
