// The adapted attention (PEFT's adaption_prompt/layer.py AdaptedAttention): a Llama-family attention module whose
// output gains, for the active adapter, o_proj(gate · softmax(q · kᵀ / √d) · v) with k and v the module's own key
// and value projections of the learned prompt `adaption_prompt` [1, adapter_len, hidden] (no rotary positions, no
// mask) and q its rotated queries of the current tokens; the gate `adaption_gate` [1] starts at zero. PEFT swaps one
// wrapper per adapter in and out of the model; here one layer holds each adapter's prompt and gate, and runs the
// active adapter's (the plain attention when the layer has none of it). Nothing to merge.
import { add, mul } from '../../../engine/ops/binary.js';
import { randn, zeros } from '../../../engine/ops/creation.js';
import { scaledDotProductAttention } from '../../../engine/ops/attention.js';
import { expand, reshape } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { LayerKV } from '../../../models/outputs.js';
import type { LlamaAttention, Rotary } from '../../../models/llama/modeling.js';
import { thenDispose } from '../../../models/shared/attention.js';
import type { AttentionMaskSpec } from '../../../models/shared/masks.js';
import { ParameterDict } from '../../../nn/containers.js';
import type { Linear } from '../../../nn/linear.js';
import { AdapterError, UnsupportedError } from '../../errors.js';
import { BaseTunerLayer } from '../base-tuner-layer.js';
import { llamaComputeQueryStates, promptKeyValueHeads } from './utils.js';

export class AdaptedAttention extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['adaption_prompt', 'adaption_gate'] as const;
  private readonly kvHeads: number;

  constructor(base: LlamaAttention, adapterName: string, adapterLen: number, options: { generator?: Generator; inferenceMode?: boolean } = {}, key = '') {
    super(adapterName, key);
    this.kvHeads = promptKeyValueHeads(base, this.label);
    this.registerModule('base_layer', base);
    this.registerModule('adaption_prompt', new ParameterDict());
    this.registerModule('adaption_gate', new ParameterDict());
    this.updateLayer(adapterName, adapterLen, options);
  }

  get attention(): LlamaAttention {
    return this.child<LlamaAttention>('base_layer');
  }

  get adaptionPrompt(): ParameterDict {
    return this.child<ParameterDict>('adaption_prompt');
  }

  get adaptionGate(): ParameterDict {
    return this.child<ParameterDict>('adaption_gate');
  }

  /** Adds an adapter: a standard-normal prompt (as the reference implementation's embedding) and a zero gate; the layer's active adapter stays. */
  updateLayer(adapterName: string, adapterLen: number, options: { generator?: Generator; inferenceMode?: boolean } = {}): void {
    const hidden = this.attention.config.hiddenSize;
    this.adaptionPrompt.set(adapterName, randn([1, adapterLen, hidden], { generator: options.generator }));
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

  forward(x: Tensor, rotary: Rotary, mask: AttentionMaskSpec, past: LayerKV | undefined, useCache: boolean): { out: Tensor; cache?: LayerKV } {
    const base = this.attention.forward(x, rotary, mask, past, useCache);
    if (this.disableAdapters) return base;
    const active = this.activeAdapters;
    if (active.length > 1) throw new AdapterError(`${this.label}: ${active.length} adapters are active (${active.join(', ')}); adaption prompts run one adapter at a time`);
    const prompt = active.length === 0 ? undefined : this.adaptionPrompt.get(active[0]!);
    if (prompt === undefined) return base;
    const prompted = this.promptOutput(x, rotary, prompt, this.adaptionGate.get(active[0]!)!);
    return { out: thenDispose(add(base.out, prompted), base.out, prompted), cache: base.cache };
  }

  /** o_proj(gate · softmax(q·kᵀ/√d)·v) over the prompt's keys and values, [B, T, hidden]. */
  private promptOutput(x: Tensor, rotary: Rotary, prompt: Tensor, gate: Tensor): Tensor {
    const attention = this.attention;
    const [B] = x.shape as [number];
    const L = prompt.shape[1]!;
    const promptHeads = (name: string): Tensor => {
      const y = attention.child<Linear>(name).forward(prompt);
      const heads = thenDispose(reshape(y, [1, L, this.kvHeads, -1]), y);
      return thenDispose(expand(heads, [B, L, this.kvHeads, -1]), heads);
    };
    const q = llamaComputeQueryStates(attention, x, rotary);
    const k = promptHeads('k_proj');
    const v = promptHeads('v_proj');
    // Grouped-query heads share a prompt head as in PEFT's repeat_interleave; the softmax runs in float32.
    const attended = thenDispose(scaledDotProductAttention(q, k, v, { layout: 'bthd' }), q, k, v);
    const gated = thenDispose(mul(attended, gate), attended);
    const [, T] = gated.shape as [number, number];
    const merged = thenDispose(reshape(gated, [B, T, -1]), gated);
    return thenDispose(attention.child<Linear>('o_proj').forward(merged), merged);
  }
}
