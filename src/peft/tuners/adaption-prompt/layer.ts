// The adapted attentions (PEFT's adaption_prompt/layer.py): an attention module whose output gains, for the active
// adapter, gate · softmax(q · kᵀ / √d) · v with k and v the module's own key and value projections of the learned
// prompt `adaption_prompt` [1, adapter_len, hidden] (no positions, no mask) and q its queries of the current tokens;
// the gate `adaption_gate` [1] starts at zero. Llama-family attention rotates the queries and sends the term through
// o_proj; GPT-2 attention projects prompt and queries with its fused c_attn and adds the term after c_proj. PEFT swaps
// one wrapper per adapter in and out of the model; here one layer holds each adapter's prompt and gate, and runs the
// active adapter's (the plain attention when the layer has none of it). Nothing to merge.
import { add, mul } from '../../../engine/ops/binary.js';
import { randn, zeros } from '../../../engine/ops/creation.js';
import { scaledDotProductAttention } from '../../../engine/ops/attention.js';
import { expand, reshape, slice } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { GPT2Attention } from '../../../models/gpt2/modeling.js';
import type { LayerKV } from '../../../models/outputs.js';
import type { LlamaAttention, Rotary } from '../../../models/llama/modeling.js';
import { thenDispose } from '../../../models/shared/attention.js';
import type { AttentionMaskSpec } from '../../../models/shared/masks.js';
import { ParameterDict } from '../../../nn/containers.js';
import type { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError, UnsupportedError } from '../../errors.js';
import { BaseTunerLayer } from '../base-tuner-layer.js';
import { gpt2ComputeQueryStates, llamaComputeQueryStates, promptKeyValueHeads } from './utils.js';

export interface AdaptedAttentionOptions {
  generator?: Generator;
  inferenceMode?: boolean;
}

/** What the adapted attentions share: the prompts and gates, the active adapter's choice and the gated prompt attention. */
export abstract class BaseAdaptedAttention<A extends Module = Module> extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['adaption_prompt', 'adaption_gate'] as const;

  constructor(base: A, adapterName: string, adapterLen: number, options: AdaptedAttentionOptions = {}, key = '') {
    super(adapterName, key);
    this.registerModule('base_layer', base);
    this.registerModule('adaption_prompt', new ParameterDict());
    this.registerModule('adaption_gate', new ParameterDict());
    this.updateLayer(adapterName, adapterLen, options);
  }

  get attention(): A {
    return this.child<A>('base_layer');
  }

  get adaptionPrompt(): ParameterDict {
    return this.child<ParameterDict>('adaption_prompt');
  }

  get adaptionGate(): ParameterDict {
    return this.child<ParameterDict>('adaption_gate');
  }

  /** The width of the prompt tokens: the attention's input size. */
  protected abstract get hiddenSize(): number;

  /** Adds an adapter: a standard-normal prompt (as the reference implementation's embedding) and a zero gate; the layer's active adapter stays. */
  updateLayer(adapterName: string, adapterLen: number, options: AdaptedAttentionOptions = {}): void {
    this.adaptionPrompt.set(adapterName, randn([1, adapterLen, this.hiddenSize], { generator: options.generator }));
    this.adaptionGate.set(adapterName, zeros([1]));
    this.setAdapter(this.activeAdapters, { inferenceMode: options.inferenceMode });
  }

  protected forgetAdapter(): void {}

  merge(): void {
    throw new UnsupportedError(`${this.label}: adaption prompts cannot be merged into the base weights (PEFT has no merge for ADAPTION_PROMPT)`);
  }

  protected unmergeAdapter(): void {
    this.merge();
  }

  /** The active adapter's prompt and gate; undefined when adapters are disabled or the active one does not reach this layer. */
  protected activePrompt(): { prompt: Tensor; gate: Tensor } | undefined {
    if (this.disableAdapters) return undefined;
    const active = this.activeAdapters;
    if (active.length > 1) throw new AdapterError(`${this.label}: ${active.length} adapters are active (${active.join(', ')}); adaption prompts run one adapter at a time`);
    const prompt = active.length === 0 ? undefined : this.adaptionPrompt.get(active[0]!);
    return prompt === undefined ? undefined : { prompt, gate: this.adaptionGate.get(active[0]!)! };
  }

  /** A projection of the prompt [1, L, heads·D] as `heads` heads, repeated over the batch: [B, L, heads, D]. */
  protected promptHeads(projected: Tensor, heads: number, batch: number): Tensor {
    const [, L] = projected.shape as [number, number];
    const split = thenDispose(reshape(projected, [1, L, heads, -1]), projected);
    return thenDispose(expand(split, [batch, L, heads, -1]), split);
  }

  /**
   * gate · softmax(q·kᵀ/√d)·v for token-major queries q [B, T, heads, D] and prompt heads k, v [B, L, kvHeads, D]
   * (grouped-query heads share a prompt head as in PEFT's repeat_interleave; the softmax runs in float32), merged
   * to [B, T, heads·D]. Consumes q, k and v.
   */
  protected gatedPromptAttention(q: Tensor, k: Tensor, v: Tensor, gate: Tensor): Tensor {
    const attended = thenDispose(scaledDotProductAttention(q, k, v, { layout: 'bthd' }), q, k, v);
    const gated = thenDispose(mul(attended, gate), attended);
    const [B, T] = gated.shape as [number, number];
    return thenDispose(reshape(gated, [B, T, -1]), gated);
  }
}

/** A Llama or Mistral self-attention with adaption prompts (PEFT's AdaptedAttention). */
export class AdaptedAttention extends BaseAdaptedAttention<LlamaAttention> {
  private readonly kvHeads: number;

  constructor(base: LlamaAttention, adapterName: string, adapterLen: number, options: AdaptedAttentionOptions = {}, key = '') {
    super(base, adapterName, adapterLen, options, key);
    this.kvHeads = promptKeyValueHeads(base, this.label);
  }

  protected get hiddenSize(): number {
    return this.attention.config.hiddenSize;
  }

  forward(x: Tensor, rotary: Rotary, mask: AttentionMaskSpec, past: LayerKV | undefined, useCache: boolean): { out: Tensor; cache?: LayerKV } {
    const base = this.attention.forward(x, rotary, mask, past, useCache);
    const active = this.activePrompt();
    if (active === undefined) return base;
    const prompted = this.promptOutput(x, rotary, active.prompt, active.gate);
    return { out: thenDispose(add(base.out, prompted), base.out, prompted), cache: base.cache };
  }

  /** o_proj of the gated prompt attention, [B, T, hidden]. */
  private promptOutput(x: Tensor, rotary: Rotary, prompt: Tensor, gate: Tensor): Tensor {
    const attention = this.attention;
    const [B] = x.shape as [number];
    const heads = (name: string): Tensor => this.promptHeads(attention.child<Linear>(name).forward(prompt), this.kvHeads, B);
    const q = llamaComputeQueryStates(attention, x, rotary);
    const merged = this.gatedPromptAttention(q, heads('k_proj'), heads('v_proj'), gate);
    return thenDispose(attention.child<Linear>('o_proj').forward(merged), merged);
  }
}

/** A GPT-2 attention with adaption prompts (PEFT's AdaptedAttentionGPT). */
export class AdaptedAttentionGPT extends BaseAdaptedAttention<GPT2Attention> {
  protected get hiddenSize(): number {
    return this.attention.child<Conv1D>('c_attn').inFeatures;
  }

  forward(x: Tensor, mask: Tensor | undefined, past: LayerKV | undefined, useCache: boolean): { output: Tensor; cache?: LayerKV } {
    const base = this.attention.forward(x, mask, past, useCache);
    const active = this.activePrompt();
    if (active === undefined) return base;
    const prompted = this.promptOutput(x, active.prompt, active.gate);
    return { output: thenDispose(add(base.output, prompted), base.output, prompted), cache: base.cache };
  }

  /** The gated prompt attention with keys and values from c_attn's k and v thirds of the prompt; no c_proj, as PEFT. */
  private promptOutput(x: Tensor, prompt: Tensor, gate: Tensor): Tensor {
    const attention = this.attention;
    const [B] = x.shape as [number];
    const e = this.hiddenSize;
    const qkv = attention.child<Conv1D>('c_attn').forward(prompt);
    const k = this.promptHeads(slice(qkv, 2, e, 2 * e), attention.heads, B);
    const v = this.promptHeads(slice(qkv, 2, 2 * e), attention.heads, B);
    qkv.dispose();
    return this.gatedPromptAttention(gpt2ComputeQueryStates(attention, x), k, v, gate);
  }
}
