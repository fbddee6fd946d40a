// Attention plumbing shared by the families: moving heads in and out of the [B, H, T, D] layout the
// fused attention takes, KV-cache appends, dropout options, bidirectional self-attention, and early
// disposal of temporaries (autograd keeps its own references, so a disposed handle never breaks backward).
import { scaledDotProductAttention, type AttentionOptions } from '../../engine/ops/attention.js';
import { concat } from '../../engine/ops/join.js';
import { permute, reshape } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
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

/** The cache extended by this step's keys and values along the sequence axis (consumes them). */
export function appendKV(past: LayerKV | undefined, key: Tensor, value: Tensor): LayerKV {
  if (past === undefined) return { key, value };
  return thenDispose({ key: concat([past.key, key], 2), value: concat([past.value, value], 2) }, key, value);
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
