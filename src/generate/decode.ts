// The decoding loop of transformers' generate (greedy search or multinomial sampling), generic over
// the model: a StepFn turns the tokens appended last into next-token logits. Each step processes the
// logits, picks a token per row, gives rows that already finished the pad token (when EOS ids are
// set, as transformers does), and stops rows on EOS, stop strings or the maximum length.
import { defaultGenerator, Generator } from '../engine/random.js';
import { Tensor } from '../engine/tensor.js';
import { callOption, flag, invalid, optionsArgument } from './config-fields.js';
import { lengthLimits, resolveGenerationConfig, type GenerationOptions } from './config.js';
import type { TokenDecoder } from './detokenizer.js';
import { GenerationConfigError, GenerationError } from './errors.js';
import { applyProcessors, logitsProcessorsFor } from './pipeline.js';
import { checkPrompt, type PromptBatch } from './prompt.js';
import { RowText } from './row-text.js';
import { greedyTokens, sampleTokens } from './sampling.js';
import { StepInputs, type StepFn } from './step.js';
import { StopStrings } from './stop-strings.js';
import { TokenHistory } from './token-history.js';

export interface DecodingOptions extends GenerationOptions {
  /** The model's generation defaults (see modelGenerationDefaults); the options above override them. */
  generationConfig?: GenerationOptions;
  /** Decodes the generated tokens into text (needed for stop strings and text output). */
  tokenizer?: TokenDecoder;
  /** Random numbers for sampling; default: the global defaultGenerator. */
  generator?: Generator;
  /** Leave special tokens (EOS, …) out of the text; default true. */
  skipSpecialTokens?: boolean;
  /** Cut each row's text where its stop string starts (and never stream that part); default false. */
  trimStopStrings?: boolean;
}

export type FinishReason = 'eos' | 'stop_string' | 'length';

export interface DecodingChunk {
  /** Index of the generated position; the closing chunk that flushes held-back text has the step count. */
  step: number;
  /** Per row, the token generated at this step, or none once the row has finished. */
  tokenIds: number[][];
  /** Per row, the text that became final at this step (null without a tokenizer). */
  text: string[] | null;
  /** Per row, why it finished (at this step or before), or null while it runs. */
  finishReasons: (FinishReason | null)[];
}

export interface DecodingResult {
  /** Prompt and generated ids per row, as transformers' generate returns them (finished rows padded). */
  sequences: number[][];
  /** Per row, the generated tokens up to and including the one that finished it. */
  tokens: number[][];
  /** Per row, the decoded generated tokens (null without a tokenizer). */
  text: string[] | null;
  finishReasons: FinishReason[];
}

function checkLogits(out: unknown, batchSize: number, vocab: number): number {
  if (!(out instanceof Tensor)) throw new GenerationError(`decode: the step function must return a Tensor of logits, got ${typeof out}`);
  const expected = `float32 logits of shape [${batchSize}, ${vocab < 0 ? 'vocab' : vocab}]`;
  if (out.dtype !== 'float32' || out.ndim !== 2 || out.shape[0] !== batchSize || out.shape[1] === 0 || (vocab >= 0 && out.shape[1] !== vocab)) {
    throw new GenerationError(`decode: the step function must return ${expected}, got ${out.dtype} [${out.shape.join(', ')}]`);
  }
  return out.shape[1]!;
}

/** The options of decoding that are not generation settings, checked, with their defaults. */
function decodingSettings(options: DecodingOptions | undefined) {
  const { generationConfig, tokenizer, generator, skipSpecialTokens, trimStopStrings, ...generation } = optionsArgument('decode', options);
  if (tokenizer !== undefined && typeof tokenizer?.decode !== 'function') invalid(callOption('tokenizer'), 'a tokenizer (with a decode method)', tokenizer);
  if (generator !== undefined && generator !== null && !(generator instanceof Generator)) invalid(callOption('generator'), 'a Generator (e.g. new Generator(seed))', generator);
  return {
    generationConfig,
    tokenizer,
    generator: generator ?? defaultGenerator,
    skipSpecialTokens: skipSpecialTokens === undefined || flag(skipSpecialTokens, callOption('skipSpecialTokens')),
    trimStopStrings: trimStopStrings !== undefined && flag(trimStopStrings, callOption('trimStopStrings')),
    generation,
  };
}

/**
 * Generates from `prompt` and streams the progress: one chunk per step, then, with a tokenizer, a
 * closing chunk with any text held back. The generator's return value is the full result.
 */
export async function* decodeStream(step: StepFn, prompt: PromptBatch, options: DecodingOptions = {}): AsyncGenerator<DecodingChunk, DecodingResult, undefined> {
  const { generationConfig, tokenizer, generator, skipSpecialTokens, trimStopStrings, generation } = decodingSettings(options);
  const config = resolveGenerationConfig(generation, generationConfig);
  if (config.stopStrings.length > 0 && tokenizer === undefined) {
    throw new GenerationConfigError('stopStrings', "generation options: 'stopStrings' need a tokenizer: pass the model's tokenizer as the 'tokenizer' option");
  }
  const { batchSize, length: promptLength, rows, ids, mask } = checkPrompt(prompt, config);
  const { maxLength } = lengthLimits(config, promptLength);
  const history = TokenHistory.from(rows, maxLength);
  const inputs = new StepInputs(batchSize, ids, mask);
  const processors = logitsProcessorsFor(config, promptLength);
  const eos = new Set(config.eosTokenIds);
  const stops = new StopStrings(config.stopStrings);
  const texts = tokenizer ? rows.map(() => new RowText(tokenizer, skipSpecialTokens, stops, trimStopStrings)) : null;
  const tokens: number[][] = rows.map(() => []);
  const reasons: (FinishReason | null)[] = rows.map(() => null);
  let vocab = -1;
  let next: Int32Array = new Int32Array(0);
  let steps = 0;
  while (history.length < maxLength && reasons.includes(null)) {
    const logits: unknown = await step(steps === 0 ? inputs.prefill() : inputs.next(next));
    try {
      vocab = checkLogits(logits, batchSize, vocab);
      applyProcessors(processors, logits as Tensor, history);
      next = config.doSample ? sampleTokens(logits as Tensor, generator) : greedyTokens(logits as Tensor);
    } finally {
      if (logits instanceof Tensor) logits.dispose();
    }
    const running = reasons.map((r) => r === null);
    if (eos.size > 0) for (let b = 0; b < batchSize; b++) if (!running[b]) next[b] = config.padTokenId!;
    history.append(next);
    running.forEach((run, b) => {
      if (!run) return;
      const id = next[b]!;
      tokens[b]!.push(id);
      const stopped = texts?.[b]!.push(id) ?? false;
      if (eos.has(id)) reasons[b] = 'eos';
      else if (stopped) reasons[b] = 'stop_string';
      else if (history.length >= maxLength) reasons[b] = 'length';
    });
    yield { step: steps++, tokenIds: running.map((run, b) => (run ? [next[b]!] : [])), text: texts?.map((t) => t.delta()) ?? null, finishReasons: [...reasons] };
  }
  if (texts) {
    const rest = texts.map((t) => t.flush());
    if (rest.some((s) => s.length > 0)) yield { step: steps, tokenIds: rows.map(() => []), text: rest, finishReasons: [...reasons] };
  }
  return { sequences: history.toRows(), tokens, text: texts?.map((t) => t.finalText) ?? null, finishReasons: reasons as FinishReason[] };
}

/** Generates from `prompt` and returns the result (decodeStream without the chunks). */
export async function decode(step: StepFn, prompt: PromptBatch, options: DecodingOptions = {}): Promise<DecodingResult> {
  const stream = decodeStream(step, prompt, options);
  for (;;) {
    const r = await stream.next();
    if (r.done) return r.value;
  }
}
