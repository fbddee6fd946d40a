// transformers' generate over a model of this library: prompts (ids, texts or chats) batched with
// padding, the model's generation defaults (generation_config.json, else config.json) under the call
// options, and a KV-cached session as the decoding loop's step function — the prompt runs once, then
// one token per row and step. With LoRA adapters: the active ones, disabled or merged as the model
// is, or one adapter per prompt (adapterNames) in a single batched forward per step. With prompt
// learning (a PeftModel): the virtual tokens or prefix go in at the first step only.
import { callOption, flag, invalid, optionsArgument } from './config-fields.js';
import { lengthLimits, resolveGenerationConfig, type GenerationConfig } from './config.js';
import { decodeStream, type DecodingChunk, type DecodingOptions, type DecodingResult } from './decode.js';
import { GenerationConfigError } from './errors.js';
import { promptBatch, type GenerateInputs } from './inputs.js';
import { fitPositions } from './positions.js';
import { checkPrompt, type CheckedPrompt, type PromptBatch } from './prompt.js';
import { causalLmSession, seq2seqSession, type DecodingSession } from './sessions.js';
import { generationTarget, modelDefaults, targetForward, type Forward, type GenerationTarget, type GenerativeModel } from './target.js';
import type { RenderOptions } from '../tokenizers/chat-template.js';
import { Tokenizer } from '../tokenizers/tokenizer.js';

export interface GenerateOptions extends Omit<DecodingOptions, 'tokenizer'> {
  /** Encodes text and chat prompts; decodes the generated text (result.text, streamed text, stop strings). */
  tokenizer?: Tokenizer;
  /** One adapter per prompt ("__base__": none), applied in one batched forward (LoraModel / PeftModel). */
  adapterNames?: readonly string[];
  /** Chat prompts: chat template options (addGenerationPrompt defaults to true). */
  chat?: RenderOptions;
  /** Text prompts: add the tokenizer's special tokens; default true. */
  addSpecialTokens?: boolean;
}

function session(target: GenerationTarget, forward: Forward, prompt: CheckedPrompt, config: GenerationConfig): { session: DecodingSession; loopPrompt?: PromptBatch } {
  if (target.promptSession !== null) return { session: target.promptSession() };
  if (!target.model.config.isEncoderDecoder) return { session: causalLmSession(forward, lengthLimits(config, prompt.length).maxLength) };
  const start = config.decoderStartTokenId;
  if (start === null) {
    throw new GenerationConfigError('decoderStartTokenId', "generation options: an encoder-decoder model needs 'decoderStartTokenId' (decoder_start_token_id in its config) or a BOS id");
  }
  const rows = Array.from({ length: prompt.batchSize }, () => [start]);
  const capacity = lengthLimits(config, 1).maxLength;
  const decoding = seq2seqSession(forward, prompt.ids, prompt.mask, prompt.batchSize, capacity, target.encoderPrompt ?? undefined);
  return { session: decoding, loopPrompt: { inputIds: rows, attentionMask: rows.map(() => [1]) } };
}

/**
 * Generates from `inputs` and streams the progress (DecodingChunk per step: each row's token and the
 * text that became final); the generator's return value is the full result.
 */
export async function* generateStream(model: GenerativeModel, inputs: GenerateInputs, options: GenerateOptions = {}): AsyncGenerator<DecodingChunk, DecodingResult, undefined> {
  const { adapterNames, chat, addSpecialTokens, ...decoding } = optionsArgument('generate', options);
  const { generationConfig: given, tokenizer, generator: _g, skipSpecialTokens: _s, trimStopStrings: _t, ...settings } = decoding;
  if (tokenizer !== undefined && !(tokenizer instanceof Tokenizer)) invalid(callOption('tokenizer'), 'a Tokenizer (see loadTokenizer)', tokenizer);
  if (addSpecialTokens !== undefined) flag(addSpecialTokens, callOption('addSpecialTokens'));
  const target = generationTarget(model);
  const lm = target.model;
  const generationConfig = given ?? modelDefaults(lm);
  const config = resolveGenerationConfig(settings, generationConfig);
  const seq2seq = lm.config.isEncoderDecoder;
  const prompt = promptBatch(inputs, { tokenizer, chat, addSpecialTokens, padTokenId: config.padTokenId, side: seq2seq ? (tokenizer?.paddingSide ?? 'right') : 'left' });
  const checked = checkPrompt(prompt, config);
  const forward = targetForward(target, adapterNames, checked.batchSize);
  const lengths = seq2seq ? {} : fitPositions(lm, checked, config, target.virtualTokens);
  const { session: running, loopPrompt } = session(target, forward, checked, { ...config, ...lengths });
  try {
    return yield* decodeStream(running.step, loopPrompt ?? prompt, { ...decoding, ...lengths, generationConfig });
  } finally {
    running.dispose();
  }
}

/** Generates from `inputs` (token ids, texts or chats, one or a batch) and returns the result. */
export async function generate(model: GenerativeModel, inputs: GenerateInputs, options: GenerateOptions = {}): Promise<DecodingResult> {
  const stream = generateStream(model, inputs, options);
  for (;;) {
    const r = await stream.next();
    if (r.done) return r.value;
  }
}
