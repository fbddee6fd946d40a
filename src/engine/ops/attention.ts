// Fused scaled-dot-product attention: softmax(scale·Q·Kᵀ + attnMask + bias + causal mask)·V, computed
// block by block in native code (no T×S matrix per head is materialised) with a backward that
// recomputes the softmax from the saved per-row max and log-sum.
//
// Semantics that differ from torch.nn.functional.scaled_dot_product_attention:
// - causal aligns to the bottom-right: query i sees keys j ≤ i + (S − T), so the T queries are the
//   last T positions of the S keys (KV-cached decoding). For T == S it equals torch's is_causal.
// - a row that sees no key (fully masked by -inf, or a causal row with i + S − T < 0) outputs 0
//   and gets zero gradients, where torch gives NaN.
// - attnMask and bias are both additive; each gets a gradient (dS summed over its broadcast dims)
//   when it requires grad. Boolean masks are not accepted: pass 0 to keep and -inf to drop.
// - dropout on the attention weights draws its mask from a counter-based Generator (reproducible
//   for a seed, not torch's random stream); the backward is not itself differentiable.
// Heads may also be read in token-major layout ([B, T, H, D], `layout: 'bthd'`), or straight from
// a packed q/k/v projection output ([B, T, (Hq + 2·Hkv)·D], packedQkvAttention); the output then
// comes out as [B, T, H, D] / [B, T, H·D], so no permute copies are needed on either side.
import { native } from '../../native/binding.js';
import { isGradEnabled, record } from '../autograd.js';
import { EngineError, ShapeError } from '../errors.js';
import { type Generator, generatorOption } from '../random.js';
import { formatShape, type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFinite, checkFlag, checkFloat, checkOptions } from './check.js';
import { zeros } from './creation.js';
import { nativeInts } from './native-ints.js';

const OP = 'scaledDotProductAttention';
const PACKED = 'packedQkvAttention';

export interface AttentionOptions {
  /** Query i sees keys j ≤ i + (S − T) (bottom-right aligned; torch's is_causal when T == S). */
  causal?: boolean;
  /** Multiplies Q·Kᵀ; defaults to 1/sqrt(D) (T5 uses 1). */
  scale?: number;
  /** Additive float mask broadcastable to [B, Hq, T, S]: 0 keeps, -inf (or a large negative) drops. */
  attnMask?: Tensor;
  /** Additive float bias broadcastable to [B, Hq, T, S] (e.g. T5's [1, H, T, S] position bias). */
  bias?: Tensor;
  /** Probability in [0, 1) of zeroing each attention weight (the kept ones are scaled by 1/(1 − p)). */
  dropoutP?: number;
  /** Source of the dropout mask; defaults to the default generator. */
  generator?: Generator;
  /** 'bhtd' (default): q/k/v/output are [batch, heads, seq, headDim]; 'bthd': [batch, seq, heads, headDim]. */
  layout?: 'bhtd' | 'bthd';
  /**
   * Attend over the first keyLength positions of k and v only: they are [B, Hkv, capacity, D]
   * buffers of a preallocated KV cache. Inference only (nothing may require grad). Default: all.
   */
  keyLength?: number;
}

export interface PackedAttentionOptions extends Omit<AttentionOptions, 'layout' | 'keyLength'> {
  /** Query heads Hq. */
  heads: number;
  /** Key/value heads Hkv (default Hq). */
  kvHeads?: number;
}

type Buf = ArrayBuffer;
type Ints = Int32Array;

// The arguments both kernels take first.
type SharedArgs = [
  q: Buf, k: Buf, v: Buf, dims: Ints, scale: number, causal: boolean,
  mask: Buf | null, maskStrides: Ints, bias: Buf | null, biasStrides: Ints,
  dropoutP: number, seedHi: number, seedLo: number, counter: number, layouts: Ints,
];

interface AttentionKernels {
  sdpaForward(...args: [...SharedArgs, out: Buf, lse: Buf]): void;
  sdpaBackward(
    ...args: [...SharedArgs, out: Buf, lse: Buf, dout: Buf, dq: Buf | null, dk: Buf | null, dv: Buf | null, dmask: Buf | null, dbias: Buf | null]
  ): void;
}

const kernels = native as unknown as AttentionKernels;

const SHARED_OPTIONS = ['causal', 'scale', 'attnMask', 'bias', 'dropoutP', 'generator'];
const KNOWN_OPTIONS = [...SHARED_OPTIONS, 'layout', 'keyLength'];
// No layout (a packed input is token-major) and no keyLength (k and v are qkv's own positions, not a
// KV cache): packedQkvAttention rejects both rather than ignore them.
const PACKED_OPTIONS = ['heads', 'kvHeads', ...SHARED_OPTIONS];

interface Dims {
  B: number;
  Hq: number;
  Hkv: number;
  T: number;
  S: number;
  D: number;
  Dv: number;
  /** Positions k and v hold per head (S unless keyLength is given). */
  capacity: number;
}

/** Element offset and batch, head and row strides of one operand (its head dim is contiguous). */
type Layout = [offset: number, batch: number, head: number, row: number];

/** A contiguous [batch, heads, seq, dim] ('bhtd') or [batch, seq, heads, dim] ('bthd') tensor. */
function layoutOf(tokenMajor: boolean, heads: number, seq: number, dim: number): Layout {
  return tokenMajor ? [0, seq * heads * dim, dim, heads * dim] : [0, heads * seq * dim, seq * dim, dim];
}

function checkDims(q: Tensor, k: Tensor, v: Tensor, tokenMajor: boolean, keyLength: number | undefined): Dims {
  for (const [arg, t] of [['q', q], ['k', k], ['v', v]] as const) {
    checkFloat(OP, arg, t);
    if (t.ndim !== 4) throw new ShapeError(OP, arg, `must have 4 dims [batch, ${tokenMajor ? 'seq, heads' : 'heads, seq'}, headDim], got shape ${formatShape(t.shape)}`);
  }
  const order = (t: Tensor) => (tokenMajor ? [t.shape[0]!, t.shape[2]!, t.shape[1]!, t.shape[3]!] : [...t.shape]) as [number, number, number, number];
  const [B, Hq, T, D] = order(q);
  const [Bk, Hkv, S, Dk] = order(k);
  const [Bv, Hv, Sv, Dv] = order(v);
  const mismatch = (arg: string, what: string) =>
    new ShapeError(OP, arg, `${what} (q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)})`);
  if (Bk !== B) throw mismatch('k', `must have the batch size of q, ${B}, got ${Bk}`);
  if (Bv !== B) throw mismatch('v', `must have the batch size of q, ${B}, got ${Bv}`);
  if (Dk !== D) throw mismatch('k', `must have the head dim of q, ${D}, got ${Dk}`);
  if (Hv !== Hkv) throw mismatch('v', `must have the head count of k, ${Hkv}, got ${Hv}`);
  if (Sv !== S) throw mismatch('v', `must have the sequence length of k, ${S}, got ${Sv}`);
  checkHeads(Hq, Hkv, D, (arg, what) => mismatch(arg, what));
  if (keyLength === undefined) return { B, Hq, Hkv, T, S, D, Dv, capacity: S };
  if (!Number.isInteger(keyLength) || keyLength < 0 || keyLength > S) {
    throw new EngineError(OP, 'options.keyLength', `must be an integer in [0, ${S}] (the positions k and v hold), got ${keyLength}`);
  }
  if (isGradEnabled() && [q, k, v].some((t) => t.requiresGrad)) {
    throw new EngineError(OP, 'options.keyLength', 'is for inference: q, k and v must not require grad (run under noGrad)');
  }
  return { B, Hq, Hkv, T, S: keyLength, D, Dv, capacity: S };
}

function checkHeads(Hq: number, Hkv: number, D: number, fail: (arg: string, what: string) => Error): void {
  if (Hq < 1 || Hkv < 1) throw fail(Hq < 1 ? 'q' : 'k', 'must have at least one head');
  if (Hq % Hkv !== 0) throw fail('q', `head count ${Hq} must be a multiple of the kv head count ${Hkv} (grouped-query attention)`);
  if (D < 1) throw fail('q', 'must have a head dim of at least 1');
}

/** Element strides of an additive term broadcast over [B, Hq, T, S] (0 on broadcast dims). */
function termStrides(op: string, arg: string, t: Tensor, target: Shape): Int32Array {
  checkFloat(op, arg, t);
  const bad = () => new ShapeError(op, arg, `has shape ${formatShape(t.shape)}, which does not broadcast to [B, Hq, T, S] = ${formatShape(target)}`);
  if (t.ndim > 4) throw bad();
  if (t.size > 2 ** 31 - 1) throw new ShapeError(op, arg, `has ${t.size} elements; the kernel indexes at most 2^31 - 1`);
  const shape = [...new Array<number>(4 - t.ndim).fill(1), ...t.shape];
  const strides = [0, 0, 0, 0];
  let stride = 1;
  for (let d = 3; d >= 0; d--) {
    if (shape[d] !== target[d] && shape[d] !== 1) throw bad();
    strides[d] = shape[d] === 1 ? 0 : stride;
    stride *= shape[d]!;
  }
  return nativeInts(strides);
}

/** The options both forms share; the caller has checked that no unknown key is present. */
function checkSharedOptions(op: string, options: AttentionOptions): void {
  const { causal, scale, dropoutP, generator } = options;
  checkFlag(op, 'options.causal', causal, false);
  checkFinite(op, 'options.scale', scale, 1);
  if (dropoutP !== undefined && !(typeof dropoutP === 'number' && dropoutP >= 0 && dropoutP < 1)) {
    throw new EngineError(op, 'options.dropoutP', `must be a number in [0, 1), got ${String(dropoutP)}`);
  }
  generatorOption(op, generator, 'options.generator');
}

/**
 * softmax(scale·q·kᵀ + attnMask + bias)·v for q [B, Hq, T, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv]
 * → [B, Hq, T, Dv] (with layout 'bthd': q [B, T, Hq, D], k [B, S, Hkv, D], v [B, S, Hkv, Dv] →
 * [B, T, Hq, Dv]). Hq must be a multiple of Hkv; query head h uses kv head ⌊h / (Hq/Hkv)⌋.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): Tensor {
  const given: AttentionOptions = checkOptions(OP, options, KNOWN_OPTIONS);
  checkSharedOptions(OP, given);
  const layout = given.layout ?? 'bhtd';
  if (layout !== 'bhtd' && layout !== 'bthd') throw new EngineError(OP, 'options.layout', `must be 'bhtd' or 'bthd', got ${String(layout)}`);
  const tokenMajor = layout === 'bthd';
  const dims = checkDims(q, k, v, tokenMajor, given.keyLength);
  const { B, Hq, Hkv, T, D, Dv, capacity } = dims;
  const layouts = [layoutOf(tokenMajor, Hq, T, D), layoutOf(tokenMajor, Hkv, capacity, D), layoutOf(tokenMajor, Hkv, capacity, Dv), layoutOf(tokenMajor, Hq, T, Dv)];
  const outShape = tokenMajor ? [B, T, Hq, Dv] : [B, Hq, T, Dv];
  return attend(OP, [q, k, v], dims, layouts, outShape, given);
}

/**
 * Attention over q, k and v packed along the last dim of one projection output qkv [B, T, (Hq + 2·Hkv)·D] (first
 * the Hq query heads, then the Hkv key heads, then the Hkv value heads, D each) → [B, T, Hq·D], with the options of
 * scaledDotProductAttention except layout and keyLength (refused: see PACKED_OPTIONS). Reads the heads in place and
 * writes the gradient of qkv whole.
 */
export function packedQkvAttention(qkv: Tensor, options: PackedAttentionOptions): Tensor {
  const { heads, kvHeads, ...rest } = checkOptions(PACKED, options, PACKED_OPTIONS, true);
  checkSharedOptions(PACKED, rest);
  checkFloat(PACKED, 'qkv', qkv);
  if (qkv.ndim !== 3) throw new ShapeError(PACKED, 'qkv', `must have 3 dims [batch, seq, (heads + 2·kvHeads)·headDim], got shape ${formatShape(qkv.shape)}`);
  const headCount = (arg: string, n: unknown): number => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new EngineError(PACKED, arg, `must be a positive integer, got ${String(n)}`);
    return n;
  };
  const Hq = headCount('options.heads', heads);
  const Hkv = kvHeads === undefined ? Hq : headCount('options.kvHeads', kvHeads);
  const [B, T, width] = qkv.shape as [number, number, number];
  const D = width / (Hq + 2 * Hkv);
  if (!Number.isInteger(D)) throw new ShapeError(PACKED, 'qkv', `last dim ${width} is not (heads + 2·kvHeads)·headDim for ${Hq} + 2·${Hkv} heads`);
  checkHeads(Hq, Hkv, D, (arg, what) => new ShapeError(PACKED, arg === 'q' ? 'options.heads' : 'options.kvHeads', what));
  const row = (Hq + 2 * Hkv) * D;
  const at = (offset: number): Layout => [offset, T * row, D, row];
  const layouts = [at(0), at(Hq * D), at((Hq + Hkv) * D), layoutOf(true, Hq, T, D)];
  return attend(PACKED, [qkv], { B, Hq, Hkv, T, S: T, D, Dv: D, capacity: T }, layouts, [B, T, Hq * D], rest);
}

/**
 * The fused kernels over `sources` ([q, k, v], or [qkv] read three times) in the given layouts; the output is a new
 * tensor of `outShape` in layouts[3].
 */
function attend(op: string, sources: readonly Tensor[], dims: Dims, layouts: readonly Layout[], outShape: Shape, options: AttentionOptions): Tensor {
  const { B, Hq, Hkv, T, S, D, Dv } = dims;
  const target = [B, Hq, T, S];
  const terms = [options.attnMask, options.bias].filter((t): t is Tensor => t !== undefined);
  const maskStrides = options.attnMask === undefined ? nativeInts([0, 0, 0, 0]) : termStrides(op, 'options.attnMask', options.attnMask, target);
  const biasStrides = options.bias === undefined ? nativeInts([0, 0, 0, 0]) : termStrides(op, 'options.bias', options.bias, target);
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const causal = options.causal ?? false;
  const inputs = [...sources, ...terms];
  const qkvAt = sources.length === 1 ? [0, 0, 0] : [0, 1, 2];

  if (B * Hq * T * Dv === 0 || S === 0) {
    // Nothing to attend over (or nothing to produce): the output and every gradient are zero.
    return record(op, zeros(outShape), inputs, (_g, needs) => inputs.map((t, i) => (needs[i] ? zeros(t.shape) : null)));
  }
  if (sources.some((t) => sizeOf(t.shape) > 2 ** 31 - 1)) throw new ShapeError(op, sources.length === 1 ? 'qkv' : 'q', 'has more than 2^31 - 1 elements; the kernel indexes fewer');

  const dimArray = nativeInts([B, Hq, Hkv, T, S, D, Dv]);
  const layoutArray = nativeInts(layouts.flat());
  const dropoutP = options.dropoutP ?? 0;
  const generator = generatorOption(op, options.generator, 'options.generator');
  const [seedHi, seedLo] = dropoutP > 0 ? generator.seedWords() : [0, 0];
  const counter = dropoutP > 0 ? generator.take(B * Hq * T * S) : 0;
  const maskIndex = options.attnMask === undefined ? -1 : sources.length;
  const biasIndex = options.bias === undefined ? -1 : sources.length + terms.length - 1;
  // The kernels' leading arguments for the sources, mask and bias given as `tensors` (inputs or saved aliases).
  const sharedArgs = (tensors: readonly Tensor[]): SharedArgs => [
    tensors[qkvAt[0]!]!.buffer, tensors[qkvAt[1]!]!.buffer, tensors[qkvAt[2]!]!.buffer, dimArray, scale, causal,
    maskIndex < 0 ? null : tensors[maskIndex]!.buffer, maskStrides, biasIndex < 0 ? null : tensors[biasIndex]!.buffer, biasStrides,
    dropoutP, seedHi, seedLo, counter, layoutArray,
  ];

  const out = Tensor.empty(outShape);
  // Each row's softmax max and log-sum, kept apart (their sum loses the log-sum under a finfo.min mask).
  const lse = Tensor.empty([B, Hq, T, 2]);
  kernels.sdpaForward(...sharedArgs(inputs), out.buffer, lse.buffer);

  record(
    op,
    out,
    inputs,
    (g, needs, saved) => {
      // Term gradients are accumulated by the kernel, so they start at zero; source gradients are written whole.
      const grads = inputs.map((t, i) => (needs[i] ? (i < sources.length ? Tensor.empty(t.shape) : zeros(t.shape)) : null));
      const gradBuf = (i: number) => (i < 0 ? null : grads[i]?.buffer ?? null);
      kernels.sdpaBackward(
        ...sharedArgs(saved), saved[inputs.length]!.buffer, saved[inputs.length + 1]!.buffer, g.buffer,
        gradBuf(qkvAt[0]!), gradBuf(qkvAt[1]!), gradBuf(qkvAt[2]!), gradBuf(maskIndex), gradBuf(biasIndex),
      );
      return grads;
    },
    [...inputs, out, lse],
  );
  lse.dispose();
  return out;
}
