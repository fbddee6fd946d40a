// The generation settings peft.js supports, each with its generation_config.json name and a check
// that returns the value (normalised) or throws a GenerationConfigError naming the setting as its
// source spells it. Also the transformers settings it does not support, with their neutral values.
import { GenerationConfigError } from './errors.js';

/** Where a value came from, for messages: the source ("generation options", a file) and the setting's name there. */
export interface Origin {
  source: string;
  name: string;
}

function show(value: unknown): string {
  if (typeof value === 'number' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Where call options come from, for messages. */
export const OPTIONS_SOURCE = 'generation options';

/** The origin of call option `name`. */
export const callOption = (name: string): Origin => ({ source: OPTIONS_SOURCE, name });

export function invalid(at: Origin, expected: string, value: unknown): never {
  throw new GenerationConfigError(at.name, `${at.source}: '${at.name}' must be ${expected}, got ${show(value)}`);
}

/** The options argument of `fn`: an object (undefined: no options). */
export function optionsArgument<T extends object>(fn: string, options: T | undefined): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new GenerationConfigError('options', `${fn}: options must be an object, got ${show(options)}`);
  }
  return options;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

export function positiveInt(v: unknown, at: Origin): number {
  return isInt(v) && v > 0 ? v : invalid(at, 'a positive integer', v);
}

export function nonNegativeInt(v: unknown, at: Origin): number {
  return isInt(v) && v >= 0 ? v : invalid(at, 'a non-negative integer', v);
}

export function finiteNumber(v: unknown, at: Origin): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : invalid(at, 'a finite number', v);
}

export function positiveNumber(v: unknown, at: Origin): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : invalid(at, 'a finite number > 0', v);
}

export function probability(v: unknown, at: Origin): number {
  return typeof v === 'number' && v >= 0 && v <= 1 ? v : invalid(at, 'a number in [0, 1]', v);
}

export function flag(v: unknown, at: Origin): boolean {
  return typeof v === 'boolean' ? v : invalid(at, 'true or false', v);
}

export function tokenId(v: unknown, at: Origin): number {
  return isInt(v) && v >= 0 ? v : invalid(at, 'a token id (a non-negative integer)', v);
}

/** One id or a non-empty list of ids, as a list. */
export function tokenIds(v: unknown, at: Origin): number[] {
  const ids = Array.isArray(v) ? v : [v];
  if (ids.length === 0 || !ids.every((id) => isInt(id) && id >= 0)) invalid(at, 'a token id or a non-empty list of token ids', v);
  return [...(ids as number[])];
}

/** One string or a list of strings, none empty, as a list. */
export function stopStrings(v: unknown, at: Origin): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((s) => typeof s === 'string' && s.length > 0)) invalid(at, 'a non-empty string or a list of non-empty strings', v);
  return [...(list as string[])];
}

/** Supported settings: camelCase option → generation_config.json key and check. */
export const FIELDS = {
  maxNewTokens: { json: 'max_new_tokens', check: positiveInt },
  maxLength: { json: 'max_length', check: positiveInt },
  minNewTokens: { json: 'min_new_tokens', check: nonNegativeInt },
  minLength: { json: 'min_length', check: nonNegativeInt },
  doSample: { json: 'do_sample', check: flag },
  temperature: { json: 'temperature', check: finiteNumber },
  topK: { json: 'top_k', check: nonNegativeInt },
  topP: { json: 'top_p', check: probability },
  repetitionPenalty: { json: 'repetition_penalty', check: positiveNumber },
  noRepeatNgramSize: { json: 'no_repeat_ngram_size', check: nonNegativeInt },
  eosTokenId: { json: 'eos_token_id', check: tokenIds },
  padTokenId: { json: 'pad_token_id', check: tokenId },
  bosTokenId: { json: 'bos_token_id', check: tokenId },
  decoderStartTokenId: { json: 'decoder_start_token_id', check: tokenId },
  numBeams: { json: 'num_beams', check: positiveInt },
  stopStrings: { json: 'stop_strings', check: stopStrings },
} as const;

export type FieldKey = keyof typeof FIELDS;

/** Options that may be null in call options, clearing what the model's generation config set. */
export const CLEARABLE: ReadonlySet<FieldKey> = new Set<FieldKey>(['maxNewTokens', 'minNewTokens', 'eosTokenId', 'padTokenId', 'bosTokenId', 'decoderStartTokenId', 'stopStrings']);

export const FIELD_BY_JSON: ReadonlyMap<string, FieldKey> = new Map(Object.entries(FIELDS).map(([key, f]) => [f.json, key as FieldKey]));

const unset = (v: unknown): boolean => v === null || v === undefined;

/**
 * transformers settings that change decoding and are not implemented: a generation_config.json
 * holding one of them at other than its neutral value is rejected rather than silently ignored.
 */
export const UNSUPPORTED: ReadonlyMap<string, (v: unknown) => boolean> = new Map([
  ['num_return_sequences', (v: unknown) => unset(v) || v === 1],
  ['typical_p', (v: unknown) => unset(v) || v === 1],
  ['min_p', (v: unknown) => unset(v) || v === 0],
  ['top_h', unset],
  ['epsilon_cutoff', (v: unknown) => unset(v) || v === 0],
  ['eta_cutoff', (v: unknown) => unset(v) || v === 0],
  ['bad_words_ids', unset],
  ['suppress_tokens', unset],
  ['begin_suppress_tokens', unset],
  ['forced_bos_token_id', unset],
  ['forced_eos_token_id', unset],
  ['sequence_bias', unset],
  ['exponential_decay_length_penalty', unset],
  ['guidance_scale', (v: unknown) => unset(v) || v === 1],
  ['renormalize_logits', (v: unknown) => unset(v) || v === false],
  ['remove_invalid_values', (v: unknown) => unset(v) || v === false],
  ['penalty_alpha', (v: unknown) => unset(v) || v === 0],
  ['num_beam_groups', (v: unknown) => unset(v) || v === 1],
  ['diversity_penalty', (v: unknown) => unset(v) || v === 0],
  ['max_time', unset],
  ['dola_layers', unset],
  ['prompt_lookup_num_tokens', unset],
  ['watermarking_config', unset],
  ['token_healing', (v: unknown) => unset(v) || v === false],
]);
