// Fused scaled-dot-product attention, flash-attention style: scores are formed one
// (query block × key block) tile at a time, so no T×S matrix is ever held whole.
//
// Forward, one task per (batch, query head, query block): S = scale·Q·Kᵀ + additive terms (mask,
// bias) + causal mask, online softmax (running row max and sum), O += P·V; then O /= rowsum and the
// per-row logsumexp is stored for the backward.
// Backward, one task per (batch, kv head) so dK/dV are owned by one thread: P is recomputed from
// the logsumexp, dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(dO∘O)), dQ += scale·dS·K,
// dK += scale·dSᵀ·Q, and each additive term that needs a gradient accumulates dS summed over its
// broadcast dims.
// Rows that see no key (fully masked) give output 0, logsumexp -inf and zero gradients.
// GEMMs go through dnnl_sgemm, which runs single-threaded inside our parallel region.
#include <dnnl.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>
#include "napi_util.h"
#include "parallel.h"
#include "simd_exp.h"

namespace {

constexpr int64_t kFwdBlockQ = 64;
constexpr int64_t kFwdBlockK = 512;
constexpr int64_t kBwdBlockQ = 128;
constexpr int64_t kBwdBlockK = 128;

void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// An additive float tensor (mask or bias) broadcast over [B, Hq, T, S]: element strides per dim,
// 0 on broadcast dims.
struct Additive {
  const float* data = nullptr;
  int64_t sb = 0, sh = 0, st = 0, ss = 0;

  int64_t offset(int64_t b, int64_t h, int64_t t) const { return b * sb + h * sh + t * st; }
};

struct Attention {
  int64_t B, Hq, Hkv, T, S, D, Dv;
  float scale;
  bool causal;
  const float *q, *k, *v;
  Additive terms[2];

  int64_t group() const { return Hq / Hkv; }
  const float* q_rows(int64_t b, int64_t h, int64_t i0) const { return q + ((b * Hq + h) * T + i0) * D; }
  const float* k_rows(int64_t b, int64_t kvh, int64_t j0) const { return k + ((b * Hkv + kvh) * S + j0) * D; }
  const float* v_rows(int64_t b, int64_t kvh, int64_t j0) const { return v + ((b * Hkv + kvh) * S + j0) * Dv; }

  // Query i sees keys j ≤ i + (S − T) when causal (bottom-right alignment). Exclusive end of the
  // keys that any query row below i_end may see.
  int64_t key_end(int64_t i_end) const { return causal ? std::clamp<int64_t>(i_end + S - T, 0, S) : S; }

  // s (bq × bk, row stride bk) = scale·Q[i0:i0+bq]·K[j0:j0+bk]ᵀ + terms, causal cells set to -inf.
  void scores(int64_t b, int64_t h, int64_t i0, int64_t bq, int64_t j0, int64_t bk, float* s) const {
    gemm('N', 'T', bq, bk, D, scale, q_rows(b, h, i0), D, k_rows(b, h / group(), j0), D, 0.f, s, bk);
    for (int64_t r = 0; r < bq; r++) {
      float* row = s + r * bk;
      for (const Additive& term : terms) {
        if (term.data == nullptr) continue;
        const float* add = term.data + term.offset(b, h, i0 + r) + j0 * term.ss;
        if (term.ss == 1)
          for (int64_t c = 0; c < bk; c++) row[c] += add[c];
        else
          for (int64_t c = 0; c < bk; c++) row[c] += add[0];
      }
      if (causal) {
        const int64_t visible = std::max<int64_t>(i0 + r + S - T + 1 - j0, 0);
        for (int64_t c = visible; c < bk; c++) row[c] = -INFINITY;
      }
    }
  }
};

Additive read_additive(const peftjs::Args& a, size_t data_arg, size_t strides_arg) {
  Additive t;
  t.data = a.f32(data_arg);
  if (t.data == nullptr) return t;
  const auto st = a.ints(strides_arg);
  t.sb = st[0], t.sh = st[1], t.st = st[2], t.ss = st[3];
  return t;
}

// Arguments shared by both kernels: q, k, v, dims [B, Hq, Hkv, T, S, D, Dv], scale, causal,
// mask|null, maskStrides, bias|null, biasStrides.
Attention read_attention(const peftjs::Args& a) {
  const auto d = a.ints(3);
  Attention at{d[0], d[1], d[2], d[3], d[4], d[5], d[6], static_cast<float>(a.f64(4)), a.flag(5),
               a.f32(0), a.f32(1), a.f32(2), {read_additive(a, 6, 7), read_additive(a, 8, 9)}};
  return at;
}

void forward_block(const Attention& a, int64_t b, int64_t h, int64_t i0, float* out, float* lse,
                   std::vector<float>& s, std::vector<float>& row_max, std::vector<float>& row_sum) {
  const int64_t bq = std::min(kFwdBlockQ, a.T - i0);
  const int64_t kend = a.key_end(i0 + bq);
  float* o = out + ((b * a.Hq + h) * a.T + i0) * a.Dv;
  std::fill(row_max.begin(), row_max.end(), -INFINITY);
  std::fill(row_sum.begin(), row_sum.end(), 0.f);
  for (int64_t j0 = 0; j0 < kend; j0 += kFwdBlockK) {
    const int64_t bk = std::min(kFwdBlockK, kend - j0);
    a.scores(b, h, i0, bq, j0, bk, s.data());
    for (int64_t r = 0; r < bq; r++) {
      float* row = s.data() + r * bk;
      const float m = std::max(row_max[r], peftjs::max_of(row, bk));
      if (m == -INFINITY) {  // nothing visible yet in this row
        std::fill(row, row + bk, 0.f);
        continue;
      }
      const float rescale = std::exp(row_max[r] - m);
      row_sum[r] = row_sum[r] * rescale + peftjs::exp_shifted_sum(row, bk, m);
      row_max[r] = m;
      if (j0 > 0 && rescale != 1.f)
        for (int64_t c = 0; c < a.Dv; c++) o[r * a.Dv + c] *= rescale;
    }
    gemm('N', 'N', bq, a.Dv, bk, 1.f, s.data(), bk, a.v_rows(b, h / a.group(), j0), a.Dv, j0 == 0 ? 0.f : 1.f, o, a.Dv);
  }
  float* l = lse + (b * a.Hq + h) * a.T + i0;
  for (int64_t r = 0; r < bq; r++) {
    float* orow = o + r * a.Dv;
    if (row_sum[r] == 0.f) {
      std::fill(orow, orow + a.Dv, 0.f);
      l[r] = -INFINITY;
      continue;
    }
    const float inv = 1.f / row_sum[r];
    for (int64_t c = 0; c < a.Dv; c++) orow[c] *= inv;
    l[r] = row_max[r] + std::log(row_sum[r]);
  }
}

// Gradient outputs of the backward; null where not needed. term_grads may point at a task-private
// buffer when several tasks would otherwise add into the same elements.
struct Grads {
  float *dq, *dk, *dv;
  float* terms[2];
};

void backward_task(const Attention& a, int64_t b, int64_t kvh, const float* out, const float* lse,
                   const float* dout, const Grads& g, std::vector<float>& p, std::vector<float>& dp,
                   std::vector<float>& delta) {
  const bool need_ds = g.dq != nullptr || g.dk != nullptr || g.terms[0] != nullptr || g.terms[1] != nullptr;
  float* dk = g.dk ? g.dk + (b * a.Hkv + kvh) * a.S * a.D : nullptr;
  float* dv = g.dv ? g.dv + (b * a.Hkv + kvh) * a.S * a.Dv : nullptr;
  if (dk) std::fill(dk, dk + a.S * a.D, 0.f);
  if (dv) std::fill(dv, dv + a.S * a.Dv, 0.f);
  for (int64_t h = kvh * a.group(); h < (kvh + 1) * a.group(); h++) {
    for (int64_t i0 = 0; i0 < a.T; i0 += kBwdBlockQ) {
      const int64_t bq = std::min(kBwdBlockQ, a.T - i0);
      const int64_t row0 = (b * a.Hq + h) * a.T + i0;
      const float* q_i = a.q_rows(b, h, i0);
      const float* o_i = out + row0 * a.Dv;
      const float* do_i = dout + row0 * a.Dv;
      const float* lse_i = lse + row0;
      float* dq_i = g.dq ? g.dq + row0 * a.D : nullptr;
      if (dq_i) std::fill(dq_i, dq_i + bq * a.D, 0.f);
      const int64_t kend = a.key_end(i0 + bq);
      for (int64_t r = 0; r < bq; r++) {
        double acc = 0;
        for (int64_t c = 0; c < a.Dv; c++) acc += static_cast<double>(do_i[r * a.Dv + c]) * o_i[r * a.Dv + c];
        delta[r] = static_cast<float>(acc);
      }
      for (int64_t j0 = 0; j0 < kend; j0 += kBwdBlockK) {
        const int64_t bk = std::min(kBwdBlockK, kend - j0);
        a.scores(b, h, i0, bq, j0, bk, p.data());
        for (int64_t r = 0; r < bq; r++) {
          float* row = p.data() + r * bk;
          if (lse_i[r] == -INFINITY)
            std::fill(row, row + bk, 0.f);
          else
            peftjs::exp_shifted_sum(row, bk, lse_i[r]);
        }
        if (dv) gemm('T', 'N', bk, a.Dv, bq, 1.f, p.data(), bk, do_i, a.Dv, 1.f, dv + j0 * a.Dv, a.Dv);
        if (!need_ds) continue;
        gemm('N', 'T', bq, bk, a.Dv, 1.f, do_i, a.Dv, a.v_rows(b, kvh, j0), a.Dv, 0.f, dp.data(), bk);
        for (int64_t r = 0; r < bq; r++) {
          const float* prow = p.data() + r * bk;
          float* ds = dp.data() + r * bk;
          for (int64_t c = 0; c < bk; c++) ds[c] = prow[c] * (ds[c] - delta[r]);
          for (int t = 0; t < 2; t++) {
            if (g.terms[t] == nullptr) continue;
            const Additive& term = a.terms[t];
            float* acc = g.terms[t] + term.offset(b, h, i0 + r) + j0 * term.ss;
            if (term.ss == 1) {
              for (int64_t c = 0; c < bk; c++) acc[c] += ds[c];
            } else {
              float sum = 0.f;
              for (int64_t c = 0; c < bk; c++) sum += ds[c];
              acc[0] += sum;
            }
          }
        }
        if (dq_i) gemm('N', 'N', bq, a.D, bk, a.scale, dp.data(), bk, a.k_rows(b, kvh, j0), a.D, 1.f, dq_i, a.D);
        if (dk) gemm('T', 'N', bk, a.D, bq, a.scale, dp.data(), bk, q_i, a.D, 1.f, dk + j0 * a.D, a.D);
      }
    }
  }
}

// Elements of an additive term (its strides describe a contiguous tensor with broadcast dims).
int64_t term_size(const Attention& a, const Additive& t) {
  return (a.B - 1) * t.sb + (a.Hq - 1) * t.sh + (a.T - 1) * t.st + (a.S - 1) * t.ss + 1;
}

// Whether two backward tasks (distinct batch or kv head) can add into the same gradient element.
bool tasks_share(const Attention& a, const Additive& t) {
  return (t.sb == 0 && a.B > 1) || (t.sh == 0 && a.Hkv > 1);
}

}  // namespace

// sdpaForward(q, k, v, dims, scale, causal, mask|null, maskStrides, bias|null, biasStrides, out, lse)
PEFTJS_FN(sdpaForward) {
  peftjs::Args args(env, info);
  const Attention a = read_attention(args);
  float* out = args.f32(10);
  float* lse = args.f32(11);
  const int64_t blocks = (a.T + kFwdBlockQ - 1) / kFwdBlockQ;
  const int64_t cost = std::min(kFwdBlockQ, a.T) * a.S * (a.D + a.Dv);
  peftjs::parallel_for(a.B * a.Hq * blocks, cost, [&](int64_t begin, int64_t end) {
    std::vector<float> s(kFwdBlockQ * std::min(kFwdBlockK, a.S)), row_max(kFwdBlockQ), row_sum(kFwdBlockQ);
    for (int64_t task = begin; task < end; task++) {
      const int64_t bh = task / blocks;
      forward_block(a, bh / a.Hq, bh % a.Hq, (task % blocks) * kFwdBlockQ, out, lse, s, row_max, row_sum);
    }
  });
  return peftjs::undefined(env);
}

// sdpaBackward(q, k, v, dims, scale, causal, mask|null, maskStrides, bias|null, biasStrides, out,
//              lse, dout, dq|null, dk|null, dv|null, dmask|null, dbias|null)
// dq/dk/dv are fully written; dmask/dbias must be zero-filled by the caller.
PEFTJS_FN(sdpaBackward) {
  peftjs::Args args(env, info);
  const Attention a = read_attention(args);
  const float* out = args.f32(10);
  const float* lse = args.f32(11);
  const float* dout = args.f32(12);
  const Grads shared{args.f32(13), args.f32(14), args.f32(15), {args.f32(16), args.f32(17)}};
  std::mutex merge;
  const int64_t cost = a.group() * a.T * a.S * (2 * a.D + 3 * a.Dv);
  peftjs::parallel_for(a.B * a.Hkv, cost, [&](int64_t begin, int64_t end) {
    const int64_t bk = std::min(kBwdBlockK, a.S);
    std::vector<float> p(kBwdBlockQ * bk), dp(kBwdBlockQ * bk), delta(kBwdBlockQ);
    Grads g = shared;
    std::vector<float> private_terms[2];
    const bool split = end - begin < a.B * a.Hkv;
    for (int t = 0; t < 2; t++) {
      if (split && shared.terms[t] != nullptr && tasks_share(a, a.terms[t])) {
        private_terms[t].assign(term_size(a, a.terms[t]), 0.f);
        g.terms[t] = private_terms[t].data();
      }
    }
    for (int64_t task = begin; task < end; task++)
      backward_task(a, task / a.Hkv, task % a.Hkv, out, lse, dout, g, p, dp, delta);
    std::lock_guard<std::mutex> lock(merge);
    for (int t = 0; t < 2; t++)
      for (size_t i = 0; i < private_terms[t].size(); i++) shared.terms[t][i] += private_terms[t][i];
  });
  return peftjs::undefined(env);
}
