// Fused scaled-dot-product attention, flash-attention style: scores are formed one
// (query block × key block) tile at a time, so no T×S matrix is ever held whole.
//
// Forward, one task per (batch, query head, query block): S = scale·Q·Kᵀ + additive terms (mask,
// bias) + causal mask, online softmax (running row max and sum), O += P·V; then O /= rowsum and
// each row's max and log-sum (its logsumexp, kept as two numbers) are stored for the backward.
// Backward, one task per (batch, kv head) so dK/dV are owned by one thread (which bounds its
// parallelism by B·Hkv): P is recomputed from the logsumexp, dV += Pᵀ·dO, dP = dO·Vᵀ,
// dS = P∘(dP − rowsum(dO∘O)), dQ += scale·dS·K, dK += scale·dSᵀ·Q, and each additive term that
// needs a gradient accumulates dS summed over its broadcast dims.
// Dropout on the attention weights (Z = P∘M/(1−p), O = Z·V) draws its keep mask M from the
// counter-based generator at counter + flat index of (b, h, i, j), so the backward regenerates it.
// Rows that see no key (fully masked) give output 0, max -inf and zero gradients.
// Each of q, k, v and the output is read through a Layout (element offset and batch, head and row
// strides; the head dim is contiguous), so heads can be taken straight from a [B, T, H, D]
// projection output, or from q, k and v packed in one [B, T, 3·H·D] tensor, without a permute
// copy. Gradients use the layout of their input (dout that of the output).
// GEMMs go through dnnl_sgemm, which runs single-threaded inside our parallel region; each kernel
// holds signals back for its whole run (signals.h) rather than around each tile's product.
#include <dnnl.h>
#include <algorithm>
#include <cmath>
#include <vector>
#include <omp.h>
#include "napi_util.h"
#include "parallel.h"
#include "random.h"
#include "signals.h"
#include "simd_math.h"

namespace {

// Block sizes, tuned at head dim 64 on AVX-512 (dnnl_sgemm). Causal forward blocks are smaller so
// that less of each diagonal tile is computed and then masked away.
constexpr int64_t kFwdBlockQ = 128;
constexpr int64_t kFwdBlockQCausal = 64;
constexpr int64_t kFwdBlockK = 512;
constexpr int64_t kBwdBlockQ = 64;
constexpr int64_t kBwdBlockK = 256;

// One row of A (a decoding step's query) is a matrix-vector product: plain vector loops, which cost
// far less than an sgemm call at head-dim sizes.
void gemv_row(char tb, int64_t n, int64_t k, float alpha, const float* a, const float* b, int64_t ldb, float beta, float* c) {
  if (tb == 'T') {  // c[j] = beta·c[j] + alpha·(a · B[j, :])
    for (int64_t j = 0; j < n; j++) {
      const float* row = b + j * ldb;
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (int64_t i = 0; i < k; i++) dot += a[i] * row[i];
      c[j] = beta == 0.f ? alpha * dot : beta * c[j] + alpha * dot;
    }
    return;
  }
  if (beta == 0.f) std::fill(c, c + n, 0.f);  // c = beta·c + alpha·Σ a[i]·B[i, :]
  else if (beta != 1.f)
    for (int64_t j = 0; j < n; j++) c[j] *= beta;
  for (int64_t i = 0; i < k; i++) {
    const float w = alpha * a[i];
    const float* row = b + i * ldb;
#pragma omp simd
    for (int64_t j = 0; j < n; j++) c[j] += w * row[j];
  }
}

void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 1 && ta == 'N') return gemv_row(tb, n, k, alpha, a, b, ldb, beta, c);
  dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// An additive float tensor (mask or bias) broadcast over [B, Hq, T, S]: element strides per dim,
// 0 on broadcast dims.
struct Additive {
  const float* data = nullptr;
  int64_t sb = 0, sh = 0, st = 0, ss = 0;

  int64_t offset(int64_t b, int64_t h, int64_t t) const { return b * sb + h * sh + t * st; }
};

struct Dropout {
  float p = 0.f;
  uint64_t seed = 0, counter = 0;
};

// Element offset of row i of head h in batch b; rows are `row` elements apart.
struct Layout {
  int64_t offset, batch, head, row;
  int64_t at(int64_t b, int64_t h, int64_t i) const { return offset + b * batch + h * head + i * row; }
};

struct Attention {
  // S keys are attended; k and v may hold more positions per head (a preallocated cache: their
  // layouts' head strides say how many).
  int64_t B, Hq, Hkv, T, S, D, Dv;
  float scale;
  bool causal;
  const float *q, *k, *v;
  Additive terms[2];
  Dropout dropout;
  Layout lq, lk, lv, lo;

  int64_t group() const { return Hq / Hkv; }
  const float* q_rows(int64_t b, int64_t h, int64_t i0) const { return q + lq.at(b, h, i0); }
  const float* k_rows(int64_t b, int64_t kvh, int64_t j0) const { return k + lk.at(b, kvh, j0); }
  const float* v_rows(int64_t b, int64_t kvh, int64_t j0) const { return v + lv.at(b, kvh, j0); }

  // Query i sees keys j ≤ i + (S − T) when causal (bottom-right alignment). Exclusive end of the
  // keys that any query row below i_end may see.
  int64_t key_end(int64_t i_end) const { return causal ? std::clamp<int64_t>(i_end + S - T, 0, S) : S; }

  // s (bq × bk, row stride bk) = scale·Q[i0:i0+bq]·K[j0:j0+bk]ᵀ + terms, causal cells set to -inf.
  void scores(int64_t b, int64_t h, int64_t i0, int64_t bq, int64_t j0, int64_t bk, float* s) const {
    gemm('N', 'T', bq, bk, D, scale, q_rows(b, h, i0), lq.row, k_rows(b, h / group(), j0), lk.row, 0.f, s, bk);
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

  // keep (bq × bk) = the dropout mask of the tile, 1 where the weight is kept.
  void dropout_mask(int64_t b, int64_t h, int64_t i0, int64_t bq, int64_t j0, int64_t bk, uint8_t* keep) const {
    for (int64_t r = 0; r < bq; r++) {
      const uint64_t base = dropout.counter + static_cast<uint64_t>(((b * Hq + h) * T + i0 + r) * S + j0);
      for (int64_t c = 0; c < bk; c++) keep[r * bk + c] = peftjs::uniform01(dropout.seed, base + c) >= dropout.p;
    }
  }

  // z = keep ∘ z / (1 − p), in place.
  void apply_dropout(const uint8_t* keep, float* z, int64_t n) const {
    const float rescale = 1.f / (1.f - dropout.p);
    for (int64_t i = 0; i < n; i++) z[i] = keep[i] ? z[i] * rescale : 0.f;
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
// mask|null, maskStrides, bias|null, biasStrides, dropoutP, seedHi, seedLo, counter, layouts
// (offset, batch, head and row strides of q, k, v and the output: 16 ints).
constexpr size_t kSharedArgs = 15;

Attention read_attention(const peftjs::Args& a) {
  const auto d = a.ints(3);
  const auto l = a.ints(14);
  const Dropout dropout{static_cast<float>(a.f64(10)), peftjs::join_seed(a.i64(11), a.i64(12)), static_cast<uint64_t>(a.i64(13))};
  const auto layout = [&](int i) { return Layout{l[4 * i], l[4 * i + 1], l[4 * i + 2], l[4 * i + 3]}; };
  Attention at{d[0], d[1], d[2], d[3], d[4], d[5], d[6], static_cast<float>(a.f64(4)), a.flag(5),
               a.f32(0), a.f32(1), a.f32(2), {read_additive(a, 6, 7), read_additive(a, 8, 9)}, dropout,
               layout(0), layout(1), layout(2), layout(3)};
  return at;
}

int64_t forward_block_rows(const Attention& a) { return a.causal ? kFwdBlockQCausal : kFwdBlockQ; }

struct ForwardScratch {
  std::vector<float> s, row_max, row_sum;
  std::vector<uint8_t> keep;
  explicit ForwardScratch(const Attention& a)
      : s(forward_block_rows(a) * std::min(kFwdBlockK, a.S)), row_max(forward_block_rows(a)), row_sum(forward_block_rows(a)),
        keep(a.dropout.p > 0.f ? s.size() : 0) {}
};

void forward_block(const Attention& a, int64_t b, int64_t h, int64_t i0, float* out, float* lse, ForwardScratch& w) {
  const int64_t bq = std::min(forward_block_rows(a), a.T - i0);
  const int64_t kend = a.key_end(i0 + bq);
  const int64_t ldo = a.lo.row;
  float* o = out + a.lo.at(b, h, i0);
  float* s = w.s.data();
  float* row_max = w.row_max.data();
  float* row_sum = w.row_sum.data();
  std::fill(row_max, row_max + bq, -INFINITY);
  std::fill(row_sum, row_sum + bq, 0.f);
  for (int64_t j0 = 0; j0 < kend; j0 += kFwdBlockK) {
    const int64_t bk = std::min(kFwdBlockK, kend - j0);
    a.scores(b, h, i0, bq, j0, bk, s);
    for (int64_t r = 0; r < bq; r++) {
      float* row = s + r * bk;
      const float m = std::max(row_max[r], peftjs::max_of(row, bk));
      if (m == -INFINITY) {  // nothing visible yet in this row
        std::fill(row, row + bk, 0.f);
        continue;
      }
      const float rescale = std::exp(row_max[r] - m);
      row_sum[r] = row_sum[r] * rescale + peftjs::exp_shifted_sum(row, bk, m);
      row_max[r] = m;
      if (j0 > 0 && rescale != 1.f)
        for (int64_t c = 0; c < a.Dv; c++) o[r * ldo + c] *= rescale;
    }
    if (a.dropout.p > 0.f) {
      a.dropout_mask(b, h, i0, bq, j0, bk, w.keep.data());
      a.apply_dropout(w.keep.data(), s, bq * bk);
    }
    gemm('N', 'N', bq, a.Dv, bk, 1.f, s, bk, a.v_rows(b, h / a.group(), j0), a.lv.row, j0 == 0 ? 0.f : 1.f, o, ldo);
  }
  // Row statistics (max, log-sum) stay apart: max + log-sum rounds back to the max when a finfo.min
  // mask hides every key of the row, and the backward would then see weights of 1 instead of 1/S.
  float* l = lse + 2 * ((b * a.Hq + h) * a.T + i0);
  for (int64_t r = 0; r < bq; r++) {
    float* orow = o + r * ldo;
    if (row_sum[r] == 0.f) {
      std::fill(orow, orow + a.Dv, 0.f);
      l[2 * r] = -INFINITY;
      continue;
    }
    const float inv = 1.f / row_sum[r];
    for (int64_t c = 0; c < a.Dv; c++) orow[c] *= inv;
    l[2 * r] = row_max[r];
    l[2 * r + 1] = std::log(row_sum[r]);
  }
}

// Gradient outputs of the backward; null where not needed. A worker's terms may point at its own
// buffer when several tasks would otherwise add into the same elements.
struct Grads {
  float *dq, *dk, *dv;
  float* terms[2];
};

struct BackwardScratch {
  std::vector<float> p, dp, delta;
  std::vector<uint8_t> keep;
  Grads g;
  std::vector<float> private_terms[2];
};

void backward_task(const Attention& a, int64_t b, int64_t kvh, const float* out, const float* lse,
                   const float* dout, BackwardScratch& w) {
  const Grads& g = w.g;
  float* p = w.p.data();
  float* dp = w.dp.data();
  float* delta = w.delta.data();
  const bool need_ds = g.dq != nullptr || g.dk != nullptr || g.terms[0] != nullptr || g.terms[1] != nullptr;
  const int64_t ldq = a.lq.row, ldk = a.lk.row, ldv = a.lv.row, ldo = a.lo.row;
  float* dk = g.dk ? g.dk + a.lk.at(b, kvh, 0) : nullptr;
  float* dv = g.dv ? g.dv + a.lv.at(b, kvh, 0) : nullptr;
  for (int64_t j = 0; j < a.S; j++) {
    if (dk) std::fill(dk + j * ldk, dk + j * ldk + a.D, 0.f);
    if (dv) std::fill(dv + j * ldv, dv + j * ldv + a.Dv, 0.f);
  }
  for (int64_t h = kvh * a.group(); h < (kvh + 1) * a.group(); h++) {
    for (int64_t i0 = 0; i0 < a.T; i0 += kBwdBlockQ) {
      const int64_t bq = std::min(kBwdBlockQ, a.T - i0);
      const float* q_i = a.q_rows(b, h, i0);
      const float* o_i = out + a.lo.at(b, h, i0);
      const float* do_i = dout + a.lo.at(b, h, i0);
      const float* lse_i = lse + 2 * ((b * a.Hq + h) * a.T + i0);
      float* dq_i = g.dq ? g.dq + a.lq.at(b, h, i0) : nullptr;
      const int64_t kend = a.key_end(i0 + bq);
      if (dq_i && kend == 0)
        for (int64_t r = 0; r < bq; r++) std::fill(dq_i + r * ldq, dq_i + r * ldq + a.D, 0.f);
      for (int64_t r = 0; r < bq; r++) delta[r] = peftjs::dot(do_i + r * ldo, o_i + r * ldo, a.Dv);
      for (int64_t j0 = 0; j0 < kend; j0 += kBwdBlockK) {
        const int64_t bk = std::min(kBwdBlockK, kend - j0);
        a.scores(b, h, i0, bq, j0, bk, p);
        for (int64_t r = 0; r < bq; r++) {
          float* row = p + r * bk;
          if (lse_i[2 * r] == -INFINITY)
            std::fill(row, row + bk, 0.f);
          else
            peftjs::exp_shifted2(row, bk, lse_i[2 * r], lse_i[2 * r + 1]);
        }
        uint8_t* keep = w.keep.data();
        if (a.dropout.p > 0.f) a.dropout_mask(b, h, i0, bq, j0, bk, keep);
        if (need_ds) {
          // dP = dO·Vᵀ (through the dropout mask), dS = P∘(dP − delta).
          gemm('N', 'T', bq, bk, a.Dv, 1.f, do_i, ldo, a.v_rows(b, kvh, j0), ldv, 0.f, dp, bk);
          if (a.dropout.p > 0.f) a.apply_dropout(keep, dp, bq * bk);
          for (int64_t r = 0; r < bq; r++) {
            const float* prow = p + r * bk;
            float* ds = dp + r * bk;
            const float d = delta[r];
#pragma omp simd simdlen(16)
            for (int64_t c = 0; c < bk; c++) ds[c] = prow[c] * (ds[c] - d);
            for (int t = 0; t < 2; t++) {
              if (g.terms[t] == nullptr) continue;
              const Additive& term = a.terms[t];
              float* acc = g.terms[t] + term.offset(b, h, i0 + r) + j0 * term.ss;
              if (term.ss == 1) {
                for (int64_t c = 0; c < bk; c++) acc[c] += ds[c];
              } else {
                acc[0] += peftjs::sum_of(ds, bk);
              }
            }
          }
          if (dq_i) gemm('N', 'N', bq, a.D, bk, a.scale, dp, bk, a.k_rows(b, kvh, j0), ldk, j0 == 0 ? 0.f : 1.f, dq_i, ldq);
          if (dk) gemm('T', 'N', bk, a.D, bq, a.scale, dp, bk, q_i, ldq, 1.f, dk + j0 * ldk, ldk);
        }
        if (dv) {
          if (a.dropout.p > 0.f) a.apply_dropout(keep, p, bq * bk);
          gemm('T', 'N', bk, a.Dv, bq, 1.f, p, bk, do_i, ldo, 1.f, dv + j0 * ldv, ldv);
        }
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

// sdpaForward(q, k, v, dims, scale, causal, mask|null, maskStrides, bias|null, biasStrides,
//             dropoutP, seedHi, seedLo, counter, layouts, out, lse [B·Hq·T·2: max, log-sum])
PEFTJS_FN(sdpaForward) {
  const peftjs::SignalsHeld held;
  peftjs::Args args(env, info);
  const Attention a = read_attention(args);
  float* out = args.f32(kSharedArgs);
  float* lse = args.f32(kSharedArgs + 1);
  const int64_t rows = forward_block_rows(a);
  const int64_t blocks = (a.T + rows - 1) / rows;
  const int64_t tasks = a.B * a.Hq * blocks;
  const int64_t workers = peftjs::worker_count(tasks);
  std::vector<ForwardScratch> scratch(workers, ForwardScratch(a));
  peftjs::run_tasks(workers, tasks, std::min(rows, a.T) * a.S * (a.D + a.Dv), [&](int64_t w, int64_t t) {
    const int64_t bh = t / blocks;
    forward_block(a, bh / a.Hq, bh % a.Hq, (t % blocks) * rows, out, lse, scratch[w]);
  });
  return peftjs::undefined(env);
}

// sdpaBackward(q, k, v, dims, scale, causal, mask|null, maskStrides, bias|null, biasStrides,
//              dropoutP, seedHi, seedLo, counter, layouts, out, lse, dout, dq|null, dk|null,
//              dv|null, dmask|null, dbias|null)
// The rows of dq/dk/dv that the layouts address are fully written; dmask/dbias must be zero-filled
// by the caller.
PEFTJS_FN(sdpaBackward) {
  const peftjs::SignalsHeld held;
  peftjs::Args args(env, info);
  const Attention a = read_attention(args);
  const size_t n = kSharedArgs;
  const float* out = args.f32(n);
  const float* lse = args.f32(n + 1);
  const float* dout = args.f32(n + 2);
  const Grads grads{args.f32(n + 3), args.f32(n + 4), args.f32(n + 5), {args.f32(n + 6), args.f32(n + 7)}};
  const int64_t tasks = a.B * a.Hkv;
  const int64_t workers = peftjs::worker_count(tasks);
  const int64_t bk = std::min(kBwdBlockK, a.S);
  std::vector<BackwardScratch> scratch(workers);
  for (BackwardScratch& w : scratch) {
    w.p.resize(kBwdBlockQ * bk);
    w.dp.resize(kBwdBlockQ * bk);
    w.delta.resize(kBwdBlockQ);
    if (a.dropout.p > 0.f) w.keep.resize(kBwdBlockQ * bk);
    w.g = grads;
    for (int t = 0; t < 2; t++) {
      if (workers > 1 && grads.terms[t] != nullptr && tasks_share(a, a.terms[t])) {
        w.private_terms[t].assign(term_size(a, a.terms[t]), 0.f);
        w.g.terms[t] = w.private_terms[t].data();
      }
    }
  }
  peftjs::run_tasks(workers, tasks, a.group() * a.T * a.S * (2 * a.D + 3 * a.Dv), [&](int64_t w, int64_t t) {
    backward_task(a, t / a.Hkv, t % a.Hkv, out, lse, dout, scratch[w]);
  });
  for (const BackwardScratch& w : scratch)
    for (int t = 0; t < 2; t++)
      for (size_t i = 0; i < w.private_terms[t].size(); i++) grads.terms[t][i] += w.private_terms[t][i];
  return peftjs::undefined(env);
}
