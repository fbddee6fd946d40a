// Reductions over an [outer, reduce, inner] view of a contiguous tensor (one run of adjacent axes
// is reduced; inner = 1 is the row case): the scaled sum behind sum and mean, the max with its
// first index, and their backward. Sums are accumulated in f32 blocks added in double.
#include <cmath>
#include <cstring>
#include <vector>
#include "napi_util.h"
#include "parallel.h"
#include "row_simd.h"

namespace {

constexpr int64_t kColumnBlockRows = 256;

// How the [outer, reduce, inner] work is cut into tasks when outer alone cannot keep every thread
// busy: wide inners split into column ranges, long reductions into parts combined afterwards.
struct Split {
  int64_t rparts = 1;
  int64_t cparts = 1;
};

Split plan(int64_t O, int64_t R, int64_t I) {
  const int64_t T = omp_get_max_threads();
  Split s;
  // O == 0 (an empty output) has no task to split, and would divide by zero below.
  if (T <= 1 || O == 0 || O >= T) return s;
  const int64_t need = (T + O - 1) / O;
  if (I >= 64 * need)
    s.cparts = need;
  else if (R >= 1024 * need)
    s.rparts = need;
  return s;
}

struct Range {
  int64_t begin, end;
};

Range part(int64_t n, int64_t p, int64_t parts) { return {n * p / parts, n * (p + 1) / parts}; }

// acc[c - c0] = Σ_{r in [r0, r1)} x[r, c] for the columns [c0, c1) of an [R, I] slab.
void sum_slab(const float* x, int64_t I, Range rows, Range cols, double* acc) {
  const int64_t w = cols.end - cols.begin;
  if (I == 1) {
    acc[0] = peftjs::row_sum(x + rows.begin, rows.end - rows.begin);
    return;
  }
  std::vector<float> block(w);
  for (int64_t c = 0; c < w; c++) acc[c] = 0;
  for (int64_t rb = rows.begin; rb < rows.end; rb += kColumnBlockRows) {
    const int64_t re = std::min(rows.end, rb + kColumnBlockRows);
    std::fill(block.begin(), block.end(), 0.f);
    for (int64_t r = rb; r < re; r++) {
      const float* row = x + r * I + cols.begin;
#pragma omp simd
      for (int64_t c = 0; c < w; c++) block[c] += row[c];
    }
    for (int64_t c = 0; c < w; c++) acc[c] += block[c];
  }
}

// Running max with the first index: a later element wins only if strictly larger, or if it is the
// first NaN (NaN propagates, as in torch.max).
inline void max_step(float v, int32_t r, float& best, int32_t& at) {
  if (v > best || (v != v && best == best)) {
    best = v;
    at = r;
  }
}

void max_slab(const float* x, int64_t I, Range rows, Range cols, float* best, int32_t* at) {
  const int64_t w = cols.end - cols.begin;
  for (int64_t c = 0; c < w; c++) {
    best[c] = x[rows.begin * I + cols.begin + c];
    at[c] = static_cast<int32_t>(rows.begin);
  }
  for (int64_t r = rows.begin + 1; r < rows.end; r++) {
    const float* row = x + r * I + cols.begin;
    for (int64_t c = 0; c < w; c++) max_step(row[c], static_cast<int32_t>(r), best[c], at[c]);
  }
}

}  // namespace

// reduceSum(x, y, outer, reduce, inner, scale): y[o, i] = scale · Σ_r x[o, r, i]
PEFTJS_FN(reduceSum) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  float* y = a.f32(1);
  const int64_t O = a.i64(2), R = a.i64(3), I = a.i64(4);
  const double scale = a.f64(5);
  const Split s = plan(O, R, I);
  const int64_t tasks = O * s.rparts * s.cparts;
  std::vector<double> partial(O * s.rparts * I);
  peftjs::parallel_for(tasks, R * I / (s.rparts * s.cparts), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / (s.rparts * s.cparts), rp = t / s.cparts % s.rparts, cp = t % s.cparts;
      const Range cols = part(I, cp, s.cparts);
      sum_slab(x + o * R * I, I, part(R, rp, s.rparts), cols, partial.data() + (o * s.rparts + rp) * I + cols.begin);
    }
  });
  peftjs::parallel_for(O, s.rparts * I, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; o++)
      for (int64_t i = 0; i < I; i++) {
        double total = 0;
        for (int64_t rp = 0; rp < s.rparts; rp++) total += partial[(o * s.rparts + rp) * I + i];
        y[o * I + i] = static_cast<float>(total * scale);
      }
  });
  return peftjs::undefined(env);
}

// reduceSumBackward(g, dx, outer, reduce, inner, scale): dx[o, r, i] = scale · g[o, i]
PEFTJS_FN(reduceSumBackward) {
  peftjs::Args a(env, info);
  const float* g = a.f32(0);
  float* dx = a.f32(1);
  const int64_t O = a.i64(2), R = a.i64(3), I = a.i64(4);
  const float scale = static_cast<float>(a.f64(5));
  if (O * R * I == 0) return peftjs::undefined(env);
  if (I == 1) {
    peftjs::parallel_for(O, R, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        const float v = scale * g[o];
        float* dst = dx + o * R;
#pragma omp simd
        for (int64_t r = 0; r < R; r++) dst[r] = v;
      }
    });
    return peftjs::undefined(env);
  }
  peftjs::parallel_for(O * R, I, [&](int64_t b, int64_t e) {
    const float* src = g + b / R * I;
    int64_t r = b % R;
    for (int64_t row = b; row < e; row++) {
      float* dst = dx + row * I;
#pragma omp simd
      for (int64_t i = 0; i < I; i++) dst[i] = scale * src[i];
      if (++r == R) {
        r = 0;
        src += I;
      }
    }
  });
  return peftjs::undefined(env);
}

// reduceMax(x, values, indices:int32, outer, reduce, inner): reduce >= 1
PEFTJS_FN(reduceMax) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  float* values = a.f32(1);
  int32_t* indices = a.i32(2);
  const int64_t O = a.i64(3), R = a.i64(4), I = a.i64(5);
  const Split s = plan(O, R, I);
  std::vector<float> best(O * s.rparts * I);
  std::vector<int32_t> at(O * s.rparts * I);
  peftjs::parallel_for(O * s.rparts * s.cparts, R * I / (s.rparts * s.cparts), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / (s.rparts * s.cparts), rp = t / s.cparts % s.rparts, cp = t % s.cparts;
      const Range cols = part(I, cp, s.cparts);
      const int64_t off = (o * s.rparts + rp) * I + cols.begin;
      max_slab(x + o * R * I, I, part(R, rp, s.rparts), cols, best.data() + off, at.data() + off);
    }
  });
  for (int64_t o = 0; o < O; o++)
    for (int64_t i = 0; i < I; i++) {
      float v = best[o * s.rparts * I + i];
      int32_t k = at[o * s.rparts * I + i];
      for (int64_t rp = 1; rp < s.rparts; rp++) max_step(best[(o * s.rparts + rp) * I + i], at[(o * s.rparts + rp) * I + i], v, k);
      values[o * I + i] = v;
      indices[o * I + i] = k;
    }
  return peftjs::undefined(env);
}

// reduceMaxBackward(g, indices:int32, dx, outer, reduce, inner): dx is g at each max, 0 elsewhere
PEFTJS_FN(reduceMaxBackward) {
  peftjs::Args a(env, info);
  const float* g = a.f32(0);
  const int32_t* indices = a.i32(1);
  float* dx = a.f32(2);
  const int64_t O = a.i64(3), R = a.i64(4), I = a.i64(5);
  peftjs::parallel_for(O * R, I, [&](int64_t b, int64_t e) {
    std::memset(dx + b * I, 0, static_cast<size_t>((e - b) * I) * sizeof(float));
  });
  for (int64_t o = 0; o < O; o++)
    for (int64_t i = 0; i < I; i++) dx[(o * R + indices[o * I + i]) * I + i] = g[o * I + i];
  return peftjs::undefined(env);
}
