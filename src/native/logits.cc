// Generation kernels over the rows of a [rows, n] float32 score matrix: top-k and top-p (nucleus)
// filtering in place, as transformers' warpers filter, and drawing one index per row from the
// softmax of its scores with the counter-based generator.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>
#include "napi_util.h"
#include "parallel.h"
#include "random.h"

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Descending rank with NaN above every number, the order of torch.topk.
inline bool ranks_above(float a, float b) { return a > b || (std::isnan(a) && !std::isnan(b)); }

// An integer that orders like (value ascending, NaN last, then position descending): among equal
// values the lower positions rank higher, as in argmax and topk.
inline uint64_t ascending_key(float v, uint32_t index) {
  uint32_t bits = 0xFFFFFFFFu;
  if (!std::isnan(v)) {
    if (v == 0.0f) v = 0.0f;  // -0 ties with +0
    std::memcpy(&bits, &v, sizeof bits);
    bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  }
  return (static_cast<uint64_t>(bits) << 32) | (0xFFFFFFFFu - index);
}

inline uint32_t key_index(uint64_t key) { return 0xFFFFFFFFu - static_cast<uint32_t>(key); }

// Largest value of the row, or NaN when the row holds a NaN (its softmax is then undefined).
float row_max(const float* row, int64_t n) {
  float m = kNegInf;
  bool nan = false;
  for (int64_t i = 0; i < n; i++) {
    m = row[i] > m ? row[i] : m;
    nan |= row[i] != row[i];
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}

// Nucleus filter of one row. In ascending order, transformers removes every entry whose
// cumulative softmax probability (float32) is <= threshold, except the last one. Where equal
// values straddle that cut, PyTorch's unstable sort decides which go; here the lower positions
// stay. The entries with zero probability come first and are always removed; among the others the
// cut is found by selection (nth_element on halving ranges, tracking the mass below), not a sort.
void top_p_row(float* row, int64_t n, float threshold, std::vector<double>& probs, std::vector<uint64_t>& keys) {
  const float m = row_max(row, n);
  if (!std::isfinite(m)) return;  // NaN or infinite softmax: every cumulative sum is NaN, nothing is removed
  double z = 0;
  for (int64_t i = 0; i < n; i++) z += probs[i] = row[i] == kNegInf ? 0.0 : std::exp(static_cast<double>(row[i] - m));
  keys.clear();
  for (int64_t i = 0; i < n; i++) {
    probs[i] = static_cast<float>(probs[i] / z);  // softmax's float32 output
    if (probs[i] > 0) keys.push_back(ascending_key(row[i], static_cast<uint32_t>(i)));
    else row[i] = kNegInf;
  }
  size_t lo = 0, hi = keys.size();
  double below = 0;  // mass of the entries ranked before lo
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(keys.begin() + lo, keys.begin() + mid, keys.begin() + hi);
    double cumulative = below;
    for (size_t j = lo; j <= mid; j++) cumulative += probs[key_index(keys[j])];
    if (static_cast<float>(cumulative) <= threshold) {
      below = cumulative;
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const size_t removed = std::min(lo, keys.size() - 1);
  for (size_t j = 0; j < removed; j++) row[key_index(keys[j])] = kNegInf;
}

}  // namespace

// topKFilter(x, rows, n, k): x[r, i] = -inf where it is below the row's k-th largest value (ties
// with it stay, so more than k entries can remain). 1 <= k <= n.
PEFTJS_FN(topKFilter) {
  peftjs::Args a(env, info);
  float* x = a.f32(0);
  const int64_t rows = a.i64(1), n = a.i64(2), k = a.i64(3);
  peftjs::parallel_for(rows, n * 8, [&](int64_t b, int64_t e) {
    std::vector<float> scratch(static_cast<size_t>(n));
    for (int64_t r = b; r < e; r++) {
      float* row = x + r * n;
      std::copy(row, row + n, scratch.begin());
      std::nth_element(scratch.begin(), scratch.begin() + (k - 1), scratch.end(), ranks_above);
      const float kth = scratch[k - 1];
      for (int64_t i = 0; i < n; i++)
        if (row[i] < kth) row[i] = kNegInf;
    }
  });
  return peftjs::undefined(env);
}

// topPFilter(x, rows, n, threshold): the nucleus filter of each row; threshold = float32(1 - top_p).
PEFTJS_FN(topPFilter) {
  peftjs::Args a(env, info);
  float* x = a.f32(0);
  const int64_t rows = a.i64(1), n = a.i64(2);
  const float threshold = static_cast<float>(a.f64(3));
  peftjs::parallel_for(rows, n * 16, [&](int64_t b, int64_t e) {
    std::vector<double> probs(static_cast<size_t>(n));
    std::vector<uint64_t> keys;
    keys.reserve(static_cast<size_t>(n));
    for (int64_t r = b; r < e; r++) top_p_row(x + r * n, n, threshold, probs, keys);
  });
  return peftjs::undefined(env);
}

// sampleRows(x, out, rows, n, seedHi, seedLo, counter): out[r] = an index drawn with probability
// softmax(x[r])[i], by inverting the cumulative distribution at the uniform number of counter + r.
// out[r] = -1 when the row has no distribution (a NaN, +inf, or every entry -inf).
PEFTJS_FN(sampleRows) {
  peftjs::Args a(env, info);
  const float* x = a.f32(0);
  int32_t* out = a.i32(1);
  const int64_t rows = a.i64(2), n = a.i64(3);
  const uint64_t seed = peftjs::join_seed(a.i64(4), a.i64(5));
  const uint64_t counter = static_cast<uint64_t>(a.i64(6));
  peftjs::parallel_for(rows, n * 16, [&](int64_t b, int64_t e) {
    std::vector<double> weights(static_cast<size_t>(n));
    for (int64_t r = b; r < e; r++) {
      const float* row = x + r * n;
      const float m = row_max(row, n);
      out[r] = -1;
      if (!std::isfinite(m)) continue;
      double z = 0;
      for (int64_t i = 0; i < n; i++) z += weights[i] = row[i] == kNegInf ? 0.0 : std::exp(static_cast<double>(row[i] - m));
      const double target = peftjs::uniform01_f64(seed, counter + static_cast<uint64_t>(r)) * z;
      double cumulative = 0;
      for (int64_t i = 0; i < n; i++) {
        if (weights[i] <= 0) continue;
        cumulative += weights[i];
        out[r] = static_cast<int32_t>(i);  // the last positive entry absorbs rounding at the top
        if (cumulative > target) break;
      }
    }
  });
  return peftjs::undefined(env);
}
