// Attention plumbing shared by the families: moving heads in and out of the [B, H, T, D] layout the
// fused attention takes, turning a [B, S] padding mask into the additive mask it adds to scores, and
// the KV cache (concatenated per step, or preallocated and written in place).
import { ShapeError } from '../../engine/errors.js';
import { scaledDotProductAttention, type AttentionOptions } from '../../engine/ops/attention.js';
import { fromArray } from '../../engine/ops/creation.js';
import { concat } from '../../engine/ops/join.js';
import { assignSlice, permute, reshape } from '../../engine/ops/view.js';
import { Tensor } from '../../engine/tensor.js';
import type { LayerKV } from '../outputs.js';
import type { Dropout } from '../../nn/dropout.js';
import type { Module } from '../../nn/module.js';
import { call } from './layers.js';

/** What transformers adds to the scores of masked keys: torch.finfo(torch.float32).min. */
export const MASKED = -3.4028234663852886e38;

/** [B, T, H·D] → [B, H, T, D] (one copy). */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, e] = x.shape as [number, number, number];
  return permute(reshape(x, [b, t, heads, e / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, D] → [B, T, H·D] (one copy). */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return reshape(permute(x, [0, 2, 1, 3]), [b, t, h * d]);
}

/**
 * The additive key mask [B, 1, 1, S] of an attention mask [B, S] (1 attend, 0 padding; int32 or
 * float32): 0 where kept, MASKED where padded. Undefined when there is no mask or it keeps every
 * key, so the attention kernel skips the term.
 */
export function paddingMask(attentionMask: Tensor | undefined, batch: number, keyLength: number, op: string): Tensor | undefined {
  if (attentionMask === undefined) return undefined;
  const [b, s] = attentionMask.shape;
  if (attentionMask.ndim !== 2 || b !== batch || s !== keyLength) {
    throw new ShapeError(op, 'attentionMask', `must have shape [${batch}, ${keyLength}] (batch, past + new tokens), got [${attentionMask.shape.join(', ')}]`);
  }
  const values = attentionMask.data();
  if (values.every((v) => v !== 0)) return undefined;
  return fromArray(Float32Array.from(values, (v) => (v === 0 ? MASKED : 0)), [batch, 1, 1, keyLength]);
}

/** The fused attention's dropout options for a Dropout layer: its p in training mode, none in eval. */
export function attentionDropout(drop: Dropout): Pick<AttentionOptions, 'dropoutP' | 'generator'> {
  return { dropoutP: drop.training ? drop.p : 0, generator: drop.generator };
}

/**
 * Bidirectional multi-head attention of x [B, T, E] through the parent's query, key and value
 * layers (named by `projections`) and its attention-dropout layer; returns [B, T, E], heads merged.
 */
export function encoderSelfAttention(parent: Module, projections: readonly [string, string, string], dropout: string, x: Tensor, heads: number, mask: Tensor | undefined): Tensor {
  const [q, k, v] = projections.map((name) => splitHeads(call(parent, name, x), heads)) as [Tensor, Tensor, Tensor];
  return mergeHeads(scaledDotProductAttention(q, k, v, { attnMask: mask, ...attentionDropout(parent.child<Dropout>(dropout)) }));
}

/** Positions a layer's cache holds (0 without one). */
export function cachedLength(kv: LayerKV | undefined): number {
  return kv === undefined ? 0 : (kv.length ?? kv.key.shape[2]!);
}

/**
 * The layer's cache after appending key and value [B, H, T, D]: written in place into a preallocated
 * cache (which must have room), else concatenated to the past ones. Attend with
 * `{ keyLength: result.length }` (undefined for a concatenated cache).
 */
export function appendKV(past: LayerKV | undefined, key: Tensor, value: Tensor): LayerKV {
  if (past === undefined) return { key, value };
  if (past.length === undefined) return { ...past, key: concat([past.key, key], 2), value: concat([past.value, value], 2) };
  const length = past.length + key.shape[2]!;
  if (length > past.key.shape[2]!) {
    throw new ShapeError('appendKV', 'past', `is a preallocated cache of ${past.key.shape[2]} positions; ${length} are needed`);
  }
  assignSlice(past.key, key, 2, past.length);
  assignSlice(past.value, value, 2, past.length);
  return { ...past, length };
}

/**
 * Each layer's keys and values copied into buffers of `capacity` positions, for appendKV to fill in
 * place (layers already preallocated are kept).
 */
export function preallocateKV(cache: readonly LayerKV[], capacity: number): LayerKV[] {
  return cache.map((kv) => {
    if (kv.length !== undefined) return kv;
    const length = kv.key.shape[2]!;
    const grow = (t: Tensor): Tensor => {
      const [b, h, , d] = t.shape as [number, number, number, number];
      const buffer = Tensor.empty([b, h, Math.max(capacity, length), d]);
      assignSlice(buffer, t, 2, 0);
      return buffer;
    };
    return { ...kv, key: grow(kv.key), value: grow(kv.value), length };
  });
}
