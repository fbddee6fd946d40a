// What adaption prompts recompute inside an attention module (PEFT's adaption_prompt/utils.py): its query states,
// which the attention's forward does not return (rotated for the Llama family), and the key/value head count PEFT
// reads off a Llama-family k projection's shape.
import { applyRotary } from '../../../engine/ops/rotary.js';
import { reshape, slice } from '../../../engine/ops/view.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { GPT2Attention } from '../../../models/gpt2/modeling.js';
import type { LlamaAttention, Rotary } from '../../../models/llama/modeling.js';
import type { Conv1D, Linear } from '../../../nn/linear.js';
import { thenDispose } from '../../../models/shared/attention.js';
import { UnsupportedError } from '../../errors.js';

/** q_proj(x) with the rotary positions applied, token-major [B, T, heads, headDim] (PEFT's llama_compute_query_states). */
export function llamaComputeQueryStates(attention: LlamaAttention, x: Tensor, rotary: Rotary): Tensor {
  const q = attention.child<Linear>('q_proj').forward(x);
  const [B, T] = q.shape as [number, number];
  const heads = thenDispose(reshape(q, [B, T, attention.config.numAttentionHeads, -1]), q);
  return thenDispose(applyRotary(heads, rotary.cos, rotary.sin, { inputLayout: 'bthd', outputLayout: 'bthd' }), heads);
}

/** The q third of c_attn(x), token-major [B, T, heads, headDim] (PEFT's gpt2_compute_query_states). */
export function gpt2ComputeQueryStates(attention: GPT2Attention, x: Tensor): Tensor {
  const qkv = attention.child<Conv1D>('c_attn').forward(x);
  const [B, T, width] = qkv.shape as [number, number, number];
  const q = thenDispose(slice(qkv, 2, 0, width / 3), qkv);
  return thenDispose(reshape(q, [B, T, attention.heads, -1]), q);
}

/**
 * The key/value heads of the prompt's keys and values: PEFT divides the query heads by k_proj's in/out feature
 * ratio, which is the model's key/value head count whenever heads · headDim equals the hidden size; other shapes
 * are refused (PEFT's reshape would fail or mix heads).
 */
export function promptKeyValueHeads(attention: LlamaAttention, key: string): number {
  const { numAttentionHeads: heads, numKeyValueHeads: kvHeads } = attention.config;
  const k = attention.child<Linear>('k_proj');
  const factor = Math.floor(k.inFeatures / k.outFeatures);
  if (factor < 1 || Math.floor(heads / factor) !== kvHeads) {
    throw new UnsupportedError(
      `${key}: adaption prompts need k_proj's in/out feature ratio (${k.inFeatures}/${k.outFeatures}) to be the ratio of query to key/value heads (${heads}/${kvHeads}), as PEFT computes the prompt's heads from it`,
    );
  }
  return kvHeads;
}
