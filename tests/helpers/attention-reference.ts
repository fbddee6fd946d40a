// Straightforward float64 attention (forward and backward) over flat row-major arrays, one query
// row at a time: the independent reference for the fused kernel where PyTorch fixtures cannot
// reach (long sequences, fully-masked rows, which torch turns into NaN and we into zeros).

export interface AdditiveTerm {
  data: ArrayLike<number>;
  shape: number[];
}

export interface ReferenceProblem {
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  /** [B, Hq, Hkv, T, S, D, Dv] */
  dims: [number, number, number, number, number, number, number];
  scale: number;
  causal: boolean;
  terms: AdditiveTerm[];
  dout: ArrayLike<number>;
  /** Dropout factor of weight (b, h, i, j): 0 when dropped, 1/(1 − p) when kept. */
  dropout?: (b: number, h: number, i: number, j: number) => number;
}

export interface ReferenceResult {
  out: Float64Array;
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  dterms: Float64Array[];
}

function broadcastIndexer(shape: number[], target: number[]): (b: number, h: number, t: number, s: number) => number {
  const full = [...new Array<number>(4 - shape.length).fill(1), ...shape];
  const strides = [0, 0, 0, 0];
  let stride = 1;
  for (let d = 3; d >= 0; d--) {
    strides[d] = full[d] === 1 && target[d] !== 1 ? 0 : stride;
    stride *= full[d]!;
  }
  return (b, h, t, s) => b * strides[0]! + h * strides[1]! + t * strides[2]! + s * strides[3]!;
}

export function referenceAttention(p: ReferenceProblem): ReferenceResult {
  const [B, Hq, Hkv, T, S, D, Dv] = p.dims;
  const group = Hq / Hkv;
  const out = new Float64Array(B * Hq * T * Dv);
  const dq = new Float64Array(B * Hq * T * D);
  const dk = new Float64Array(B * Hkv * S * D);
  const dv = new Float64Array(B * Hkv * S * Dv);
  const dterms = p.terms.map((t) => new Float64Array(t.data.length));
  const indexers = p.terms.map((t) => broadcastIndexer(t.shape, [B, Hq, T, S]));
  const prob = new Float64Array(S);
  const dprob = new Float64Array(S);
  const factor = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kv = b * Hkv + Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qi = ((b * Hq + h) * T + i) * D;
        const oi = ((b * Hq + h) * T + i) * Dv;
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          let s = 0;
          for (let c = 0; c < D; c++) s += p.q[qi + c]! * p.k[(kv * S + j) * D + c]!;
          s *= p.scale;
          for (let n = 0; n < p.terms.length; n++) s += p.terms[n]!.data[indexers[n]!(b, h, i, j)]!;
          if (p.causal && j > i + S - T) s = -Infinity;
          prob[j] = s;
          max = Math.max(max, s);
        }
        if (max === -Infinity) continue; // a row that sees no key: output and gradients stay 0
        let sum = 0;
        for (let j = 0; j < S; j++) sum += prob[j] = Math.exp(prob[j]! - max);
        for (let j = 0; j < S; j++) prob[j]! /= sum;
        for (let j = 0; j < S; j++) factor[j] = p.dropout ? p.dropout(b, h, i, j) : 1;
        for (let j = 0; j < S; j++) {
          for (let c = 0; c < Dv; c++) out[oi + c] += prob[j]! * factor[j]! * p.v[(kv * S + j) * Dv + c]!;
        }
        let delta = 0;
        for (let j = 0; j < S; j++) {
          let d = 0;
          for (let c = 0; c < Dv; c++) d += p.dout[oi + c]! * p.v[(kv * S + j) * Dv + c]!;
          dprob[j] = d * factor[j]!;
          delta += prob[j]! * dprob[j]!;
        }
        for (let j = 0; j < S; j++) {
          const ds = prob[j]! * (dprob[j]! - delta);
          for (let c = 0; c < D; c++) {
            dq[qi + c] += p.scale * ds * p.k[(kv * S + j) * D + c]!;
            dk[(kv * S + j) * D + c] += p.scale * ds * p.q[qi + c]!;
          }
          for (let c = 0; c < Dv; c++) dv[(kv * S + j) * Dv + c] += prob[j]! * factor[j]! * p.dout[oi + c]!;
          for (let n = 0; n < dterms.length; n++) dterms[n]![indexers[n]!(b, h, i, j)] += ds;
        }
      }
    }
  }
  return { out, dq, dk, dv, dterms };
}
