// Attention plumbing shared by the families: moving heads in and out of the [B, H, T, D] layout the
// fused attention takes, the KV cache (concatenated per step, or preallocated and written in place),
// dropout options, bidirectional self-attention, and early disposal of temporaries (autograd keeps
// its own references, so a disposed handle never breaks backward).
import { ShapeError } from '../../engine/errors.js';
import { scaledDotProductAttention, type AttentionOptions } from '../../engine/ops/attention.js';
import { concat } from '../../engine/ops/join.js';
import { assignSlice, permute, reshape } from '../../engine/ops/view.js';
import { Tensor } from '../../engine/tensor.js';
import type { Dropout } from '../../nn/dropout.js';
import type { Module } from '../../nn/module.js';
import type { LayerKV } from '../outputs.js';
import { call } from './layers.js';

/** Returns `result` after disposing `temps`: frees intermediates as soon as they are used. */
export function thenDispose<T>(result: T, ...temps: Tensor[]): T {
  for (const t of temps) t.dispose();
  return result;
}

/** [B, T, heads·D] → [B, heads, T, D]. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [B, T, width] = x.shape as [number, number, number];
  const view = reshape(x, [B, T, heads, width / heads]);
  return thenDispose(permute(view, [0, 2, 1, 3]), view);
}

/** [B, heads, T, D] → [B, T, heads·D]. */
export function mergeHeads(x: Tensor): Tensor {
  const [B, H, T, D] = x.shape as [number, number, number, number];
  const moved = permute(x, [0, 2, 1, 3]);
  return thenDispose(reshape(moved, [B, T, H * D]), moved);
}

/** Positions a layer's cache holds (0 without one). */
export function cachedLength(kv: LayerKV | undefined): number {
  return kv === undefined ? 0 : (kv.length ?? kv.key.shape[2]!);
}

/**
 * The cache extended by this step's keys and values [B, H, T, D] (consumes them): written in place
 * into a preallocated cache (which must have room), else concatenated along the sequence axis.
 * Attend with `{ keyLength: result.length }` (undefined for a concatenated cache).
 */
export function appendKV(past: LayerKV | undefined, key: Tensor, value: Tensor): LayerKV {
  if (past === undefined) return { key, value };
  if (past.length === undefined) return thenDispose({ key: concat([past.key, key], 2), value: concat([past.value, value], 2) }, key, value);
  const length = past.length + key.shape[2]!;
  if (length > past.key.shape[2]!) {
    throw new ShapeError('appendKV', 'past', `is a preallocated cache of ${past.key.shape[2]} positions; ${length} are needed`);
  }
  assignSlice(past.key, key, 2, past.length);
  assignSlice(past.value, value, 2, past.length);
  return thenDispose({ key: past.key, value: past.value, length }, key, value);
}

/**
 * Each layer's keys and values copied into buffers of `capacity` positions, for appendKV to fill in
 * place (other fields, such as T5's cross-attention keys, are kept; preallocated layers with that
 * much room too, smaller ones are copied into larger buffers). The given buffers are not freed.
 */
export function preallocateKV(cache: readonly LayerKV[], capacity: number): LayerKV[] {
  return cache.map((kv) => {
    if (kv.length !== undefined && kv.key.shape[2]! >= capacity) return kv;
    const length = cachedLength(kv);
    const grow = (t: Tensor): Tensor => {
      const [b, h, , d] = t.shape as [number, number, number, number];
      const buffer = Tensor.empty([b, h, Math.max(capacity, length), d]);
      assignSlice(buffer, t, 2, 0);
      return buffer;
    };
    return { ...kv, key: grow(kv.key), value: grow(kv.value), length };
  });
}

/** The fused attention's dropout options for a Dropout layer: its p in training mode, none in eval. */
export function attentionDropout(drop: Dropout): Pick<AttentionOptions, 'dropoutP' | 'generator'> {
  return { dropoutP: drop.training ? drop.p : 0, generator: drop.generator };
}

/**
 * Bidirectional multi-head attention of x [B, T, E] through the parent's query, key and value
 * layers (named by `projections`) and its attention-dropout layer; returns [B, T, E], heads merged.
 * Keys and values of `past` (a prefix, [B, H, S, D]) come before the new ones.
 */
export function encoderSelfAttention(
  parent: Module,
  projections: readonly [string, string, string],
  dropout: string,
  x: Tensor,
  heads: number,
  mask: Tensor | undefined,
  past?: LayerKV,
): Tensor {
  const [q, k, v] = projections.map((name) => splitHeads(call(parent, name, x), heads)) as [Tensor, Tensor, Tensor];
  const { key, value } = appendKV(past, k, v);
  return mergeHeads(scaledDotProductAttention(q, key, value, { attnMask: mask, ...attentionDropout(parent.child<Dropout>(dropout)) }));
}
