// Head layout helpers around the fused attention op, and KV-cache appends.
import { concat } from '../../engine/ops/join.js';
import { permute, reshape } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import type { LayerKV } from '../outputs.js';

/** [B, T, heads·D] → [B, heads, T, D]. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [B, T, width] = x.shape as [number, number, number];
  return permute(reshape(x, [B, T, heads, width / heads]), [0, 2, 1, 3]);
}

/** [B, heads, T, D] → [B, T, heads·D]. */
export function mergeHeads(x: Tensor): Tensor {
  const [B, H, T, D] = x.shape as [number, number, number, number];
  return reshape(permute(x, [0, 2, 1, 3]), [B, T, H * D]);
}

/** The cache extended by this step's keys and values along the sequence axis. */
export function appendKV(past: LayerKV | undefined, key: Tensor, value: Tensor): LayerKV {
  if (past === undefined) return { key, value };
  return { key: concat([past.key, key], 2), value: concat([past.value, value], 2) };
}
