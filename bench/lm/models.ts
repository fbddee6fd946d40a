// The language models of the `train` and `forward` benches, built the same way on both sides: a
// random-initialised causal LM from a config dict (bench/torch_worker.py hands the same dict to
// transformers' AutoConfig.for_model) with a LoRA adapter from the same LoraConfig dict, fed the
// same random tokens. Also the FLOP count that turns tokens/s into GFLOP/s.
import { AdamW, AutoModelForCausalLM, LoraConfig, LoraModel, fromArray, type PreTrainedModel, type Tensor } from '../../src/index.js';
import type { BenchCase } from '../harness/bench.js';
import type { Flags } from '../harness/flags.js';

export type LmMode = 'train' | 'forward';

interface LmSpec {
  /** config.json fields; dropout is 0 so both sides run the same deterministic work. */
  config(seq: number): Record<string, unknown>;
  /** LoRA target module names. */
  targets: string[];
  fanInFanOut: boolean;
  /** [in, out] of every Linear/Conv1D a token goes through in one layer, and which of them LoRA targets. */
  layerProjections: { name: string; in: number; out: number }[];
  layers: number;
  hidden: number;
  vocab: number;
}

const GPT2_SMALL: LmSpec = {
  // n_positions grows past 1024 only when a longer sequence is asked for (the T=2048 memory check).
  config: (seq) => ({
    model_type: 'gpt2', vocab_size: 50257, n_positions: Math.max(1024, seq), n_embd: 768, n_layer: 12, n_head: 12,
    activation_function: 'gelu_new', resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, layer_norm_epsilon: 1e-5, tie_word_embeddings: true,
  }),
  targets: ['c_attn'],
  fanInFanOut: true,
  layerProjections: [
    { name: 'c_attn', in: 768, out: 3 * 768 },
    { name: 'attn.c_proj', in: 768, out: 768 },
    { name: 'c_fc', in: 768, out: 3072 },
    { name: 'mlp.c_proj', in: 3072, out: 768 },
  ],
  layers: 12,
  hidden: 768,
  vocab: 50257,
};

const SMOLLM_135M: LmSpec = {
  config: (seq) => ({
    model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
    num_attention_heads: 9, num_key_value_heads: 3, hidden_act: 'silu', max_position_embeddings: Math.max(2048, seq),
    rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, attention_dropout: 0, attention_bias: false, mlp_bias: false,
  }),
  targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  fanInFanOut: false,
  layerProjections: [
    { name: 'q_proj', in: 576, out: 576 },
    { name: 'k_proj', in: 576, out: 192 },
    { name: 'v_proj', in: 576, out: 192 },
    { name: 'o_proj', in: 576, out: 576 },
    { name: 'gate_proj', in: 576, out: 1536 },
    { name: 'up_proj', in: 576, out: 1536 },
    { name: 'down_proj', in: 1536, out: 576 },
  ],
  layers: 30,
  hidden: 576,
  vocab: 49152,
};

const MODELS: Record<string, LmSpec> = { 'gpt2-small': GPT2_SMALL, 'smollm-135m': SMOLLM_135M };

const RANK = 8;
const ALPHA = 16;

export const LM_FLAGS = {
  model: `${Object.keys(MODELS).join(' | ')} (default gpt2-small)`,
  batch: 'sequences per step (default 4)',
  seq: 'tokens per sequence (default 256)',
};

export interface LmParams {
  mode: LmMode;
  model: string;
  batch: number;
  seq: number;
  config: Record<string, unknown>;
  lora: Record<string, unknown>;
  tokens: number[];
}

/** Random token ids from a fixed 32-bit xorshift stream, so both sides see the same batch. */
function randomTokens(count: number, vocab: number): number[] {
  let s = 0x9e3779b9;
  return Array.from({ length: count }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % vocab;
  });
}

function specOf(name: string): LmSpec {
  const spec = MODELS[name];
  if (spec === undefined) throw new Error(`bench: unknown --model '${name}' (${Object.keys(MODELS).join(', ')})`);
  return spec;
}

/**
 * Model FLOPs per token, counting multiply-adds as 2 and only the work the step needs:
 * forward = 2·N (every projection and the LM head) + causal attention 2·2·d·(T+1)/2 per layer
 * (q·kᵀ and p·v over the (T+1)/2 keys a query sees on average) + LoRA 2·r·(in+out) per target;
 * train = forward + the input-gradient GEMMs of backward (2·N, attention 2× its forward, LoRA 1×)
 * + LoRA's weight gradients (1× its forward). Frozen weights get no weight gradient, so a LoRA step
 * is ≈ 4·N per token, not the 6·N of full fine-tuning.
 */
export function flopsPerToken(p: LmParams): number {
  const spec = specOf(p.model);
  const perLayer = spec.layerProjections.reduce((s, l) => s + l.in * l.out, 0);
  const lora = spec.layerProjections.filter((l) => spec.targets.some((t) => l.name.endsWith(t))).reduce((s, l) => s + RANK * (l.in + l.out), 0);
  const dense = spec.layers * perLayer + spec.hidden * spec.vocab;
  const attention = spec.layers * 2 * 2 * spec.hidden * ((p.seq + 1) / 2);
  const forward = 2 * dense + attention + 2 * spec.layers * lora;
  return p.mode === 'forward' ? forward : forward + 2 * dense + 2 * attention + 2 * 2 * spec.layers * lora;
}

/** The bench's one case: the model and shapes from the flags. */
export function lmCase(mode: LmMode, flags: Flags): BenchCase {
  const model = flags.string('model') ?? 'gpt2-small';
  const spec = specOf(model);
  const batch = flags.number('batch', 4);
  const seq = flags.number('seq', 256);
  const lora = { r: RANK, lora_alpha: ALPHA, lora_dropout: 0, target_modules: spec.targets, fan_in_fan_out: spec.fanInFanOut, bias: 'none' };
  const params: LmParams = { mode, model, batch, seq, config: spec.config(seq), lora, tokens: randomTokens(batch * seq, spec.vocab) };
  return { label: `${model} B=${batch} T=${seq}`, params: params as unknown as Record<string, unknown>, work: batch * seq };
}

export interface LmSubject {
  model: LoraModel<PreTrainedModel>;
  inputIds: Tensor;
  optimizer: AdamW | null;
}

/** Our model for a case: train mode with an AdamW over the LoRA parameters, or eval mode for inference. */
export function buildOurs(p: LmParams): LmSubject {
  const base = AutoModelForCausalLM.fromConfig(p.config);
  const model = new LoraModel(base, LoraConfig.fromJSON(p.lora));
  const inputIds = fromArray(Int32Array.from(p.tokens), [p.batch, p.seq], 'int32');
  if (p.mode === 'forward') {
    model.eval();
    return { model, inputIds, optimizer: null };
  }
  model.train();
  const trainable = model.parameters().filter((t) => t.requiresGrad);
  return { model, inputIds, optimizer: new AdamW(trainable, { lr: 1e-4 }) };
}
