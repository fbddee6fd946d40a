// Attention masks as transformers' eager attention builds them: additive floats, 0 where a key is
// seen and finfo(float32).min where it is not. Plain causal attention uses the fused kernel's causal
// flag plus a [B, 1, 1, S] padding term; a full [B|1, 1, T, S] mask is built only for what the flag
// cannot express: sliding windows, packed sequences, and rows that see no key at all (left padding),
// which eager attention spreads uniformly over every key.
import { ShapeError } from '../../engine/errors.js';
import { fromArray } from '../../engine/ops/creation.js';
import type { Tensor } from '../../engine/tensor.js';

/** torch.finfo(torch.float32).min, transformers' "masked" value. */
export const MASK_MIN = -3.4028234663852886e38;

/** What to pass to scaledDotProductAttention. */
export interface AttentionMaskSpec {
  causal: boolean;
  attnMask?: Tensor;
}

/** The 0/1 values of a [batch, length] mask (int32 or float32), checked against the expected shape. */
function maskValues(op: string, arg: string, mask: Tensor, batch: number, length: number): ArrayLike<number> {
  if (mask.ndim !== 2 || mask.shape[0] !== batch || mask.shape[1] !== length) {
    throw new ShapeError(op, arg, `must have shape [${batch}, ${length}] (batch, key length), got [${mask.shape.join(', ')}]`);
  }
  return mask.data();
}

/** Additive [B, 1, 1, S] mask hiding padded keys, or undefined when there is none. */
export function paddingMask(op: string, attentionMask: Tensor | undefined, batch: number, keyLength: number): Tensor | undefined {
  if (attentionMask === undefined) return undefined;
  const keep = maskValues(op, 'attentionMask', attentionMask, batch, keyLength);
  const values = new Float32Array(batch * keyLength);
  let masked = false;
  for (let i = 0; i < values.length; i++) {
    if (keep[i] === 0) {
      values[i] = MASK_MIN;
      masked = true;
    }
  }
  return masked ? fromArray(values, [batch, 1, 1, keyLength]) : undefined;
}

/**
 * Sequence ids of packed rows (several sequences laid end to end, each restarting its positions),
 * as transformers infers them from position ids when no attention mask is given; null if unpacked.
 */
function packedSequenceIds(op: string, positionIds: Tensor, batch: number, length: number): Int32Array | null {
  if (positionIds.ndim !== 2 || (positionIds.shape[0] !== batch && positionIds.shape[0] !== 1) || positionIds.shape[1] !== length) {
    throw new ShapeError(op, 'positionIds', `must have shape [${batch}, ${length}] or [1, ${length}], got [${positionIds.shape.join(', ')}]`);
  }
  const rows = positionIds.shape[0]!;
  const pos = positionIds.data();
  const ids = new Int32Array(rows * length);
  let packed = false;
  for (let b = 0; b < rows; b++) {
    let id = 0;
    for (let t = 1; t < length; t++) {
      if (pos[b * length + t]! - pos[b * length + t - 1]! !== 1) id++;
      ids[b * length + t] = id;
    }
    packed ||= id > 0;
  }
  return packed ? ids : null;
}

export interface CausalMaskOptions {
  /** [B, past + T] 1/0 padding mask. */
  attentionMask?: Tensor;
  batch: number;
  queryLength: number;
  pastLength: number;
  /** Each query sees only the last `slidingWindow` positions (itself included). */
  slidingWindow?: number | null;
  /** Used to detect packed sequences when there is neither an attention mask nor a cache. */
  positionIds?: Tensor;
}

/** The mask of causal self-attention over `pastLength` cached and `queryLength` new positions. */
export function causalMask(op: string, o: CausalMaskOptions): AttentionMaskSpec {
  const T = o.queryLength;
  const S = o.pastLength + T;
  const window = o.slidingWindow ?? null;
  const keep = o.attentionMask === undefined ? null : maskValues(op, 'attentionMask', o.attentionMask, o.batch, S);
  const packed = o.positionIds !== undefined && keep === null && o.pastLength === 0 ? packedSequenceIds(op, o.positionIds, o.batch, T) : null;
  // A row sees no key when every position up to its own is padding: the first query sees the fewest.
  let blindRows = false;
  for (let b = 0; keep !== null && b < o.batch && !blindRows; b++) {
    blindRows = true;
    for (let j = 0; j <= o.pastLength; j++) if (keep[b * S + j] !== 0) blindRows = false;
  }
  if (packed === null && !blindRows && (window === null || S <= window)) {
    return { causal: true, attnMask: paddingMask(op, o.attentionMask, o.batch, S) };
  }
  const rows = keep !== null || (packed !== null && packed.length > T) ? o.batch : 1;
  const values = new Float32Array(rows * T * S).fill(MASK_MIN);
  for (let b = 0; b < rows; b++) {
    for (let i = 0; i < T; i++) {
      const p = o.pastLength + i;
      const row = (b * T + i) * S;
      for (let j = window === null ? 0 : Math.max(0, p - window + 1); j <= p; j++) {
        if (keep !== null && keep[b * S + j] === 0) continue;
        if (packed !== null && packed[b * T + i] !== packed[b * T + j]) continue;
        values[row + j] = 0;
      }
    }
  }
  return { causal: false, attnMask: fromArray(values, [rows, 1, T, S]) };
}
