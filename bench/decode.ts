// Greedy generation throughput (generated tokens per second, prefill included) of randomly
// initialised GPT-2-small and SmolLM-135M shaped models built from their configs on both sides:
// our generate() vs transformers' generate, same prompts, min_new_tokens = max_new_tokens so both
// produce the same number of tokens. Our layer weights are stored in --dtype (default bfloat16;
// compute is float32); PyTorch runs in float32, transformers' default.
import { AutoModelForCausalLM, castLayerWeights, generate, manualSeed, supportedModelTypes, type PreTrainedModel, type WeightDType } from '../src/index.js';
import type { Bench, BenchCase } from './harness/bench.js';

const MODELS: Record<string, Record<string, unknown>> = {
  'gpt2-small': { model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, bos_token_id: 50256, eos_token_id: 50256 },
  'smollm-135m': {
    model_type: 'llama',
    vocab_size: 49152,
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: true,
    bos_token_id: 0,
    eos_token_id: 0,
  },
};

interface DecodeParams {
  config: Record<string, unknown>;
  input_ids: number[][];
  new_tokens: number;
  dtype: WeightDType;
}

/** Deterministic prompt ids, away from the special tokens. */
function prompts(batch: number, length: number, vocab: number): number[][] {
  return Array.from({ length: batch }, (_, b) => Array.from({ length }, (_, i) => 100 + ((b * 7919 + i * 104729) % (vocab - 200))));
}

export const bench: Bench = {
  description: 'greedy generate(), generated tokens/s (prefill included), random GPT-2-small / SmolLM-135M',
  flags: {
    models: `comma-separated (${Object.keys(MODELS).join(', ')}; default all whose family is implemented)`,
    batches: 'comma-separated batch sizes (default 1,8)',
    prompt: 'prompt length (default 32)',
    'new-tokens': 'tokens generated per row (default 64)',
    dtype: 'storage of our layer weights: bfloat16 (default), float16 or float32',
  },
  throughput: { unit: 'tok/s', scale: 1 },
  cases: (flags) => {
    const supported = supportedModelTypes('causalLm');
    const names = flags.string('models')?.split(',') ?? Object.keys(MODELS).filter((m) => supported.includes(MODELS[m]!.model_type as string));
    for (const m of names) {
      if (MODELS[m] === undefined) throw new Error(`bench decode: unknown model '${m}' (have ${Object.keys(MODELS).join(', ')})`);
      if (!supported.includes(MODELS[m].model_type as string)) throw new Error(`bench decode: model type ${String(MODELS[m].model_type)} is not implemented`);
    }
    const skipped = Object.keys(MODELS).filter((m) => !names.includes(m));
    if (skipped.length > 0) console.log(`decode: not measured: ${skipped.join(', ')}`);
    const batches = (flags.string('batches') ?? '1,8').split(',').map(Number);
    const length = flags.number('prompt', 32);
    const newTokens = flags.number('new-tokens', 64);
    const dtype = (flags.string('dtype') ?? 'bfloat16') as WeightDType;
    return names.flatMap((m) =>
      batches.map((batch): BenchCase => {
        const config = MODELS[m]!;
        const params: DecodeParams = { config, input_ids: prompts(batch, length, config.vocab_size as number), new_tokens: newTokens, dtype };
        return { label: `${m} batch ${batch}`, params: params as unknown as Record<string, unknown>, work: batch * newTokens };
      }),
    );
  },
  ours: (c) => {
    const { config, input_ids: inputIds, new_tokens: n, dtype } = c.params as unknown as DecodeParams;
    manualSeed(0);
    const model: PreTrainedModel = AutoModelForCausalLM.fromConfig(config).eval();
    castLayerWeights(model, dtype);
    return {
      run: async () => {
        await generate(model, { inputIds, attentionMask: inputIds.map((r) => r.map(() => 1)) }, { maxNewTokens: n, minNewTokens: n });
      },
      dispose: () => model.dispose(),
    };
  },
  summary: (results) => Object.fromEntries(results.map((r) => [`${r.case.label.replace(/[^a-z0-9]+/gi, '_')}_tok_s`, r.case.work! / r.ours.seconds])),
};
