// The thin products of a LoRA adapter (A [r, K], B [N, r], rank r of a few to a few dozen) around a
// base layer's output y [M, N] for inputs x [M, K]. They are bound by memory, not arithmetic, and a
// general GEMM spends as long setting up and joining its threads as computing them; here each is
// one pass over the rows, and the backward does all four products in one pass:
//   down:     h = x·Aᵀ
//   up:       y += s·h·Bᵀ
//   backward: gh = s·g·B, gB = s·gᵀ·h, gx += gh·A, gA = ghᵀ·x
// Rows are taken in groups of kGroup so each weight-gradient element is loaded and stored once per
// group; gA and gB are summed in per-thread buffers. Row primitives: lora_rows.h.
#include <omp.h>
#include <algorithm>
#include <vector>
#include "lora_rows.h"
#include "napi_util.h"

namespace {

constexpr int64_t kGroup = peftjs::lora::kMaxUpdateRows;
constexpr int64_t kRowsPerTask = 32;

int64_t tasks_of(int64_t rows) { return (rows + kRowsPerTask - 1) / kRowsPerTask; }

// Threads for `rows` rows of `row_cost` multiply-adds each: one for small inputs.
int threads_for(int64_t rows, int64_t row_cost) {
  if (rows * row_cost < 65536 || omp_in_parallel()) return 1;
  return static_cast<int>(std::clamp<int64_t>(tasks_of(rows), 1, omp_get_max_threads()));
}

// t [cols, rows] = mᵀ for m [rows, cols].
std::vector<float> transposed(const float* m, int64_t rows, int64_t cols) {
  std::vector<float> t(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
  return t;
}

}  // namespace

// loraDown(x [M, K], A [r, K], h [M, r], M, K, r): h = x·Aᵀ
PEFTJS_FN(loraDown) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  const float* A = a.f32(1);
  float* h = a.f32(2);
  const int64_t M = a.i64(3), K = a.i64(4), r = a.i64(5);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(M, K * r))
  for (int64_t t = 0; t < tasks_of(M); t++) {
    const int64_t i0 = t * kRowsPerTask;
    peftjs::lora::dots(x + i0 * K, std::min(M - i0, kRowsPerTask), A, K, r, 1.f, h + i0 * r);
  }
  return peftjs::undefined(env);
}

// loraUp(h [M, r], B [N, r], y [M, N], M, N, r, s): y += s·h·Bᵀ
PEFTJS_FN(loraUp) {
  peftjs::Args a(env, info);
  const float* h = a.f32(0);
  float* y = a.f32(2);
  const int64_t M = a.i64(3), N = a.i64(4), r = a.i64(5);
  const float s = static_cast<float>(a.f64(6));
  const std::vector<float> Bt = transposed(a.f32(1), N, r);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(M, N * r))
  for (int64_t t = 0; t < tasks_of(M); t++) {
    float c[kRowsPerTask * peftjs::lora::kMaxRank];
    const int64_t i0 = t * kRowsPerTask, n = std::min(M - i0, kRowsPerTask);
    for (int64_t e = 0; e < n * r; e++) c[e] = s * h[i0 * r + e];
    peftjs::lora::combine(y + i0 * N, n, Bt.data(), N, r, c);
  }
  return peftjs::undefined(env);
}

// loraBackward(g [M, N], x [M, K], A [r, K], B [N, r], h [M, r], gx [M, K]|null (accumulated),
//              gA [r, K]|null, gB [N, r]|null, M, N, K, r, s)
PEFTJS_FN(loraBackward) {
  peftjs::Args a(env, info);
  const float* g = a.f32(0);
  const float* x = a.f32(1);
  const float* A = a.f32(2);
  const float* h = a.f32(4);
  float* gx = a.f32(5);
  float* gA = a.f32(6);
  float* gB = a.f32(7);
  const int64_t M = a.i64(8), N = a.i64(9), K = a.i64(10), r = a.i64(11);
  const float s = static_cast<float>(a.f64(12));
  const std::vector<float> Bt = transposed(a.f32(3), N, r);
  const int threads = threads_for(M, (N + K) * r * 2);
  // Per thread: gBᵀ [r, N] and gA [r, K] partial sums. Tasks go to threads statically, so each
  // thread sums the same rows in every call and the gradients are the same run to run.
  std::vector<std::vector<float>> partial(threads);
#pragma omp parallel num_threads(threads)
  {
    std::vector<float>& acc = partial[omp_get_thread_num()];
    acc.assign(static_cast<size_t>(r * (N + K)), 0.f);
    float* gBt_acc = acc.data();
    float* gA_acc = acc.data() + r * N;
    float gh[kGroup * peftjs::lora::kMaxRank], ch[kGroup * peftjs::lora::kMaxRank];
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks_of(M); t++) {
      const int64_t end = std::min(M, (t + 1) * kRowsPerTask);
      for (int64_t i0 = t * kRowsPerTask; i0 < end; i0 += kGroup) {
        const int64_t n = std::min(kGroup, end - i0);
        const float* rows_g = g + i0 * N;
        const float* rows_x = x + i0 * K;
        peftjs::lora::dots(rows_g, n, Bt.data(), N, r, s, gh);
        if (gx) peftjs::lora::combine(gx + i0 * K, n, A, K, r, gh);
        if (gB) {
          for (int64_t e = 0; e < n * r; e++) ch[e] = s * h[i0 * r + e];
          peftjs::lora::rank_update(gBt_acc, rows_g, n, ch, N, r);
        }
        if (gA) peftjs::lora::rank_update(gA_acc, rows_x, n, gh, K, r);
      }
    }
  }
  if (gB) {
    std::fill(gB, gB + N * r, 0.f);
    for (const std::vector<float>& acc : partial)
      for (int64_t k = 0; k < r; k++)
        for (int64_t o = 0; o < N; o++) gB[o * r + k] += acc[k * N + o];
  }
  if (gA) {
    std::fill(gA, gA + r * K, 0.f);
    for (const std::vector<float>& acc : partial)
      for (int64_t i = 0; i < r * K; i++) gA[i] += acc[r * N + i];
  }
  return peftjs::undefined(env);
}
