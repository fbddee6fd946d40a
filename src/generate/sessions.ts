// Step functions over a model's forward with its KV cache, as transformers' generate runs them:
// - decoder-only: the (left-padded) prompt once, then one token per row, the attention mask covering
//   cache + new tokens and positions counted from each row's first real token; logits are computed
//   for the last position only (logitsToKeep 1);
// - encoder-decoder: the encoder once, at the first step, with the decoder start token; its output,
//   its mask and the decoder's cache (self and cross keys/values) are reused at every later step.
//   Prompt learning rewrites the encoder's inputs once, before the first step: virtual-token
//   embeddings prepended (with the mask), or a key/value prefix the decoder's cache starts with.
// After the first step the cache is copied into preallocated buffers, which later steps write in
// place (no per-step concatenation); when they are full they are copied into buffers twice as large,
// never past the generation's capacity, so a large maximum length costs nothing up front. A session
// owns the cache between steps and frees it on dispose.
import { noGrad } from '../engine/autograd.js';
import { fromArray } from '../engine/ops/creation.js';
import { reshape, slice } from '../engine/ops/view.js';
import { keep, scope } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import type { LayerKV, ModelInputs } from '../models/outputs.js';
import { cachedLength, preallocateKV } from '../models/shared/attention.js';
import { GenerationError } from './errors.js';
import type { StepFn, StepInput } from './step.js';
import type { Forward } from './target.js';

export interface DecodingSession {
  step: StepFn;
  /** Frees the cache (and the encoder output). */
  dispose(): void;
}

/** Every tensor held by a cache (LayerKV entries, or richer per-layer records such as T5's). */
function cacheTensors(cache: readonly LayerKV[] | undefined): Set<Tensor> {
  const out = new Set<Tensor>();
  for (const entry of cache ?? []) {
    for (const v of Object.values(entry)) if ((v as { isTensor?: boolean } | null)?.isTensor === true) out.add(v as Tensor);
  }
  return out;
}

/** Cache positions preallocated at least, when the capacity allows. */
const MIN_ROOM = 64;

/**
 * One cached forward per step (under noGrad, intermediates freed), returning the last position's
 * logits [B, V] and the encoder output the model computed (when it ran its encoder). The new cache
 * replaces the old one, whose tensors the model did not carry over are freed.
 */
class CachedForward {
  /** `capacity`: the positions the cache must hold by the last step; `past`: a cache to start from (a prefix). */
  constructor(
    private readonly forward: Forward,
    private readonly capacity: number,
    private past?: LayerKV[],
  ) {}

  /** `build` makes the step's inputs (inside the step's scope, so they are freed with it). */
  run(input: StepInput, build: () => ModelInputs): { logits: Tensor; encoded?: Tensor } {
    const b = input.batchSize;
    const { logits, encoded, cache } = noGrad(() =>
      scope(() => {
        const inputs = build();
        const out = this.forward({ ...inputs, pastKeyValues: this.past, useCache: true });
        if (out.logits === undefined || out.pastKeyValues === undefined) {
          throw new GenerationError('generate: the model returned no logits or no cache; generation needs an LM head model (e.g. GPT2LMHeadModel)');
        }
        const [, t, v] = out.logits.shape as [number, number, number];
        const encoded = inputs.encoderHiddenStates === undefined ? out.encoderLastHiddenState : undefined;
        const cache = this.withRoom(out.pastKeyValues);
        return { logits: reshape(t === 1 ? out.logits : slice(out.logits, 1, t - 1), [b, v]), encoded, cache };
      }),
    );
    const carried = cacheTensors(cache);
    for (const tensor of cacheTensors(this.past)) if (!carried.has(tensor)) tensor.dispose();
    this.past = cache;
    return { logits, encoded };
  }

  dispose(): void {
    for (const tensor of cacheTensors(this.past)) tensor.dispose();
    this.past = undefined;
  }

  /** The cache in preallocated buffers with room for the next step's token (grown by doubling when full). */
  private withRoom(cache: LayerKV[]): LayerKV[] {
    const first = cache[0];
    const length = cachedLength(first);
    const full = first?.length === undefined || first.key.shape[2]! <= length;
    return full && length < this.capacity ? preallocateKV(cache, Math.min(this.capacity, Math.max(2 * length, MIN_ROOM))) : cache;
  }
}

const ids = (input: StepInput): Tensor => fromArray(input.inputIds, [input.batchSize, input.inputLength]);

/** `capacity`: the longest sequence the generation can reach (prompt included). */
export function causalLmSession(forward: Forward, capacity: number): DecodingSession {
  const cached = new CachedForward(forward, capacity);
  return {
    step: (input) =>
      cached.run(input, () => ({
        inputIds: ids(input),
        attentionMask: fromArray(input.attentionMask, [input.batchSize, input.pastLength + input.inputLength]),
        positionIds: fromArray(input.positionIds, [input.batchSize, input.inputLength]),
        logitsToKeep: 1,
      })).logits,
    dispose: () => cached.dispose(),
  };
}

/**
 * Prompt learning's rewrite of an encoder-decoder generation's inputs (the encoder's ids and mask):
 * the encoder inputs to use instead (e.g. inputsEmbeds with virtual tokens, the mask extended) and
 * pastKeyValues, the key/value prefix the decoder's cache starts with.
 */
export type EncoderPrompt = (inputs: ModelInputs) => ModelInputs;

/**
 * `encoderIds` / `encoderMask`: [batch, length] row-major (the prompt); the decoding loop's rows are
 * the decoder's, of at most `capacity` tokens. `prompt` rewrites the encoder inputs once, up front.
 */
export function seq2seqSession(forward: Forward, encoderIds: Int32Array, encoderMask: Int32Array, batchSize: number, capacity: number, prompt?: EncoderPrompt): DecodingSession {
  const shape = [batchSize, encoderIds.length / batchSize];
  const { encoder, prefix } = noGrad(() =>
    scope(() => {
      const given: ModelInputs = { inputIds: fromArray(encoderIds, shape), attentionMask: fromArray(encoderMask, shape) };
      const { pastKeyValues, ...rewritten } = prompt?.(given) ?? given;
      return { encoder: rewritten, prefix: pastKeyValues };
    }),
  );
  const encoderTensors = Object.values(encoder).filter((v): v is Tensor => (v as { isTensor?: boolean } | undefined)?.isTensor === true);
  for (const t of [...encoderTensors, ...cacheTensors(prefix)]) keep(t);
  const attentionMask = encoder.attentionMask!;
  const cached = new CachedForward(forward, capacity + cachedLength(prefix?.[0]), prefix);
  let encoderHiddenStates: Tensor | undefined;
  const step: StepFn = (input) => {
    const decoder = () => ({ decoderInputIds: ids(input), attentionMask, logitsToKeep: 1 });
    const states = encoderHiddenStates;
    if (states !== undefined) return cached.run(input, () => ({ ...decoder(), encoderHiddenStates: states })).logits;
    const { logits, encoded } = cached.run(input, () => ({ ...encoder, ...decoder() }));
    if (encoded === undefined) throw new GenerationError('generate: the encoder-decoder model returned no encoder output (encoderLastHiddenState)');
    encoderHiddenStates = encoded;
    for (const t of encoderTensors) if (t !== attentionMask) t.dispose();
    return logits;
  };
  return {
    step,
    dispose: () => {
      cached.dispose();
      encoderHiddenStates?.dispose();
      for (const t of encoderTensors) t.dispose();
    },
  };
}
