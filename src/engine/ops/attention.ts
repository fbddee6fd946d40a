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
import { native } from '../../native/binding.js';
import { isGradEnabled, record } from '../autograd.js';
import { EngineError, ShapeError } from '../errors.js';
import { defaultGenerator, Generator } from '../random.js';
import { formatShape, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { zeros } from './creation.js';

const OP = 'scaledDotProductAttention';

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
  /**
   * Attend over the first keyLength positions of k and v only: they are [B, Hkv, capacity, D]
   * buffers of a preallocated KV cache. Inference only (nothing may require grad). Default: all.
   */
  keyLength?: number;
}

type Buf = ArrayBuffer;
type Ints = Int32Array;

// The arguments both kernels take first.
type SharedArgs = [
  q: Buf, k: Buf, v: Buf, dims: Ints, scale: number, causal: boolean,
  mask: Buf | null, maskStrides: Ints, bias: Buf | null, biasStrides: Ints,
  dropoutP: number, seedHi: number, seedLo: number, counter: number,
];

interface AttentionKernels {
  sdpaForward(...args: [...SharedArgs, out: Buf, lse: Buf]): void;
  sdpaBackward(
    ...args: [...SharedArgs, out: Buf, lse: Buf, dout: Buf, dq: Buf | null, dk: Buf | null, dv: Buf | null, dmask: Buf | null, dbias: Buf | null]
  ): void;
}

const kernels = native as unknown as AttentionKernels;

const KNOWN_OPTIONS = new Set(['causal', 'scale', 'attnMask', 'bias', 'dropoutP', 'generator', 'keyLength']);

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

function checkDims(q: Tensor, k: Tensor, v: Tensor, keyLength: number | undefined): Dims {
  for (const [arg, t] of [['q', q], ['k', k], ['v', v]] as const) {
    checkFloat(OP, arg, t);
    if (t.ndim !== 4) throw new ShapeError(OP, arg, `must have 4 dims [batch, heads, seq, headDim], got shape ${formatShape(t.shape)}`);
  }
  const [B, Hq, T, D] = q.shape as [number, number, number, number];
  const [Bk, Hkv, S, Dk] = k.shape as [number, number, number, number];
  const [Bv, Hv, Sv, Dv] = v.shape as [number, number, number, number];
  const mismatch = (arg: string, what: string) =>
    new ShapeError(OP, arg, `${what} (q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)})`);
  if (Bk !== B) throw mismatch('k', `must have the batch size of q, ${B}, got ${Bk}`);
  if (Bv !== B) throw mismatch('v', `must have the batch size of q, ${B}, got ${Bv}`);
  if (Dk !== D) throw mismatch('k', `must have the head dim of q, ${D}, got ${Dk}`);
  if (Hv !== Hkv) throw mismatch('v', `must have the head count of k, ${Hkv}, got ${Hv}`);
  if (Sv !== S) throw mismatch('v', `must have the sequence length of k, ${S}, got ${Sv}`);
  if (Hq < 1 || Hkv < 1) throw mismatch(Hq < 1 ? 'q' : 'k', 'must have at least one head');
  if (Hq % Hkv !== 0) throw mismatch('q', `head count ${Hq} must be a multiple of the kv head count ${Hkv} (grouped-query attention)`);
  if (D < 1) throw mismatch('q', 'must have a head dim of at least 1');
  if (keyLength === undefined) return { B, Hq, Hkv, T, S, D, Dv, capacity: S };
  if (!Number.isInteger(keyLength) || keyLength < 0 || keyLength > S) {
    throw new EngineError(OP, 'options.keyLength', `must be an integer in [0, ${S}] (the positions k and v hold), got ${keyLength}`);
  }
  if (isGradEnabled() && [q, k, v].some((t) => t.requiresGrad)) {
    throw new EngineError(OP, 'options.keyLength', 'is for inference: q, k and v must not require grad (run under noGrad)');
  }
  return { B, Hq, Hkv, T, S: keyLength, D, Dv, capacity: S };
}

/** Element strides of an additive term broadcast over [B, Hq, T, S] (0 on broadcast dims). */
function termStrides(arg: string, t: Tensor, target: Shape): Int32Array {
  checkFloat(OP, arg, t);
  const bad = () => new ShapeError(OP, arg, `has shape ${formatShape(t.shape)}, which does not broadcast to [B, Hq, T, S] = ${formatShape(target)}`);
  if (t.ndim > 4) throw bad();
  if (t.size > 2 ** 31 - 1) throw new ShapeError(OP, arg, `has ${t.size} elements; the kernel indexes at most 2^31 - 1`);
  const shape = [...new Array<number>(4 - t.ndim).fill(1), ...t.shape];
  const strides = new Int32Array(4);
  let stride = 1;
  for (let d = 3; d >= 0; d--) {
    if (shape[d] !== target[d] && shape[d] !== 1) throw bad();
    strides[d] = shape[d] === 1 ? 0 : stride;
    stride *= shape[d]!;
  }
  return strides;
}

function checkOptions(options: AttentionOptions): void {
  if (options === null || typeof options !== 'object') throw new EngineError(OP, 'options', `must be an object, got ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new EngineError(OP, `options.${key}`, `is not an option (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  const { causal, scale, dropoutP, generator } = options;
  if (causal !== undefined && typeof causal !== 'boolean') throw new EngineError(OP, 'options.causal', `must be a boolean, got ${typeof causal}`);
  if (scale !== undefined && (typeof scale !== 'number' || !Number.isFinite(scale))) {
    throw new EngineError(OP, 'options.scale', `must be a finite number, got ${String(scale)}`);
  }
  if (dropoutP !== undefined && !(typeof dropoutP === 'number' && dropoutP >= 0 && dropoutP < 1)) {
    throw new EngineError(OP, 'options.dropoutP', `must be a number in [0, 1), got ${String(dropoutP)}`);
  }
  if (generator !== undefined && !(generator instanceof Generator)) throw new EngineError(OP, 'options.generator', 'must be a Generator');
}

/**
 * softmax(scale·q·kᵀ + attnMask + bias)·v for q [B, Hq, T, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv]
 * → [B, Hq, T, Dv]. Hq must be a multiple of Hkv; query head h uses kv head ⌊h / (Hq/Hkv)⌋.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  checkOptions(options);
  const dims = checkDims(q, k, v, options.keyLength);
  const { B, Hq, Hkv, T, S, D, Dv, capacity } = dims;
  const target = [B, Hq, T, S];
  const terms = [options.attnMask, options.bias].filter((t): t is Tensor => t !== undefined);
  const maskStrides = options.attnMask === undefined ? new Int32Array(4) : termStrides('options.attnMask', options.attnMask, target);
  const biasStrides = options.bias === undefined ? new Int32Array(4) : termStrides('options.bias', options.bias, target);
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const causal = options.causal ?? false;
  const inputs = [q, k, v, ...terms];

  if (B * Hq * T * Dv === 0 || S === 0) {
    // Nothing to attend over (or nothing to produce): the output and every gradient are zero.
    return record(OP, zeros([B, Hq, T, Dv]), inputs, (_g, needs) => inputs.map((t, i) => (needs[i] ? zeros(t.shape) : null)));
  }

  const dimArray = Int32Array.from([B, Hq, Hkv, T, S, D, Dv, capacity]);
  const dropoutP = options.dropoutP ?? 0;
  const generator = options.generator ?? defaultGenerator;
  const [seedHi, seedLo] = dropoutP > 0 ? generator.seedWords() : [0, 0];
  const counter = dropoutP > 0 ? generator.take(B * Hq * T * S) : 0;
  const maskIndex = options.attnMask === undefined ? -1 : 3;
  const biasIndex = options.bias === undefined ? -1 : terms.length + 2;
  // The kernels' leading arguments for q, k, v, mask, bias given as `tensors` (inputs or saved aliases).
  const sharedArgs = (tensors: readonly Tensor[]): SharedArgs => [
    tensors[0]!.buffer, tensors[1]!.buffer, tensors[2]!.buffer, dimArray, scale, causal,
    maskIndex < 0 ? null : tensors[maskIndex]!.buffer, maskStrides, biasIndex < 0 ? null : tensors[biasIndex]!.buffer, biasStrides,
    dropoutP, seedHi, seedLo, counter,
  ];

  const out = Tensor.empty([B, Hq, T, Dv]);
  // Each row's softmax max and log-sum, kept apart (their sum loses the log-sum under a finfo.min mask).
  const lse = Tensor.empty([B, Hq, T, 2]);
  kernels.sdpaForward(...sharedArgs(inputs), out.buffer, lse.buffer);

  record(
    OP,
    out,
    inputs,
    (g, needs, saved) => {
      // Term gradients are accumulated by the kernel, so they start at zero; dq/dk/dv are written whole.
      const grads = inputs.map((t, i) => (needs[i] ? (i < 3 ? Tensor.empty(t.shape) : zeros(t.shape)) : null));
      const gradBuf = (i: number) => (i < 0 ? null : grads[i]?.buffer ?? null);
      kernels.sdpaBackward(
        ...sharedArgs(saved), saved[inputs.length]!.buffer, saved[inputs.length + 1]!.buffer, g.buffer,
        gradBuf(0), gradBuf(1), gradBuf(2), gradBuf(maskIndex), gradBuf(biasIndex),
      );
      return grads;
    },
    [...inputs, out, lse],
  );
  lse.dispose();
  return out;
}
