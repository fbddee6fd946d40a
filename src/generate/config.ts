// Generation settings as transformers resolves them: call options (camelCase) over the model's
// generation config (its generation_config.json, snake_case, or the generation keys of config.json
// when there is none) over transformers' global defaults — top_k 50 included.
import { callOption, CLEARABLE, FIELD_BY_JSON, FIELDS, invalid, OPTIONS_SOURCE, UNSUPPORTED, type FieldKey, type Origin } from './config-fields.js';
import { GenerationConfigError } from './errors.js';

export interface GenerationOptions {
  /** Tokens to generate at most, prompt excluded; takes precedence over maxLength. */
  maxNewTokens?: number | null;
  /** Total length (prompt included) to stop at. Unset: 20 new tokens, as transformers' default max_length. */
  maxLength?: number;
  /** EOS ids are suppressed until this many tokens were generated; takes precedence over minLength. */
  minNewTokens?: number | null;
  /** EOS ids are suppressed while the sequence (prompt included) is shorter. Default 0. */
  minLength?: number;
  /** Multinomial sampling (with temperature, top-k, top-p) instead of greedy search. Default false. */
  doSample?: boolean;
  /** Sampling only; default 1. */
  temperature?: number;
  /** Sampling only: keep the k most likely tokens (ties with the k-th stay); 0 disables. Default 50. */
  topK?: number;
  /** Sampling only: nucleus filtering; 1 disables. Default 1. */
  topP?: number;
  /** > 1 penalises tokens already in the sequence (prompt included); default 1 (off). */
  repetitionPenalty?: number;
  /** Forbids repeating any n-gram of this size; 0 (default) disables. */
  noRepeatNgramSize?: number;
  eosTokenId?: number | readonly number[] | null;
  /** Token given to rows that finished; defaults to the first EOS id. */
  padTokenId?: number | null;
  bosTokenId?: number | null;
  /** Encoder-decoder models: the first decoder token; defaults to bosTokenId. */
  decoderStartTokenId?: number | null;
  /** Only 1 is supported (greedy search or sampling). */
  numBeams?: number;
  /** Stop a row once its generated text contains one of these (needs a tokenizer). */
  stopStrings?: string | readonly string[] | null;
}

/** Resolved settings. */
export interface GenerationConfig {
  maxNewTokens: number | null;
  /** null: transformers' default, 20 new tokens. */
  maxLength: number | null;
  minNewTokens: number | null;
  minLength: number;
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  /** Empty when generation never stops on a token. */
  eosTokenIds: number[];
  /** The pad token, else the first EOS id, else null. */
  padTokenId: number | null;
  bosTokenId: number | null;
  /** The decoderStartTokenId setting, else the BOS id, else null. */
  decoderStartTokenId: number | null;
  stopStrings: string[];
}

/** transformers' max_length when neither it nor max_new_tokens is set, counted as new tokens. */
export const DEFAULT_NEW_TOKENS = 20;

/**
 * Reads a generation_config.json object (snake_case) into generation options. Unknown keys and
 * settings that do not change decoding (use_cache, output_scores, …) are ignored; null means unset;
 * a setting that changes decoding in a way not implemented here (num_beams > 1, typical_p, min_p,
 * …) is a GenerationConfigError.
 */
export function readGenerationConfig(json: Record<string, unknown>, source = 'generation_config.json'): GenerationOptions {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new GenerationConfigError('generation_config', `${source}: expected a JSON object, got ${Array.isArray(json) ? 'an array' : String(json)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(json)) {
    if (value === null) continue;
    const key = FIELD_BY_JSON.get(name);
    if (key !== undefined) out[key] = FIELDS[key].check(value, { source, name });
    else if (UNSUPPORTED.get(name)?.(value) === false) {
      throw new GenerationConfigError(name, `${source}: '${name}' = ${JSON.stringify(value)} is not supported (only greedy search and multinomial sampling with the processors in docs/generation.md); remove it to decode without it`);
    }
  }
  return out as GenerationOptions;
}

const NESTED_CONFIGS = ['decoder', 'generator', 'text_config'];

/**
 * The model's generation defaults as transformers' from_pretrained finds them: generation_config.json
 * when the folder has one, else the generation settings of config.json (outer keys first, then those
 * of a nested decoder/generator/text_config).
 */
export function modelGenerationDefaults(folder: { config: Record<string, unknown>; generationConfig: Record<string, unknown> | null }): GenerationOptions {
  if (folder.generationConfig !== null) return readGenerationConfig(folder.generationConfig);
  const nested = NESTED_CONFIGS.map((k) => folder.config[k]).find((c): c is Record<string, unknown> => typeof c === 'object' && c !== null);
  const picked: Record<string, unknown> = {};
  for (const name of [...FIELD_BY_JSON.keys(), ...UNSUPPORTED.keys()]) {
    const value = folder.config[name] ?? nested?.[name];
    if (value !== undefined && value !== null) picked[name] = value;
  }
  return readGenerationConfig(picked, 'config.json');
}

/**
 * Merges call options over the model's defaults (from readGenerationConfig or modelGenerationDefaults)
 * over transformers' defaults, and validates the result. Errors name the option as its source
 * spells it: camelCase for options, the JSON key for defaults.
 */
export function resolveGenerationConfig(options: GenerationOptions = {}, modelDefaults: GenerationOptions = {}, defaultsSource = 'model generation config'): GenerationConfig {
  for (const [given, source] of [[options, OPTIONS_SOURCE], [modelDefaults, defaultsSource]] as const) {
    const unknown = Object.keys(given).find((k) => !(k in FIELDS));
    if (unknown !== undefined) throw new GenerationConfigError(unknown, `${source}: unknown option '${unknown}' (supported: ${Object.keys(FIELDS).join(', ')})`);
  }
  const origins = new Map<FieldKey, Origin>();
  const get = <T>(key: FieldKey): T | null | undefined => {
    const fromOptions = options[key];
    if (fromOptions === null) {
      if (!CLEARABLE.has(key)) invalid(callOption(key), 'set (null only clears token ids, stop strings, maxNewTokens and minNewTokens)', null);
      return null;
    }
    const at = fromOptions !== undefined ? callOption(key) : { source: defaultsSource, name: FIELDS[key].json };
    const value = fromOptions ?? modelDefaults[key];
    if (value === undefined || value === null) return undefined;
    origins.set(key, at);
    return FIELDS[key].check(value, at) as T;
  };
  const config: GenerationConfig = {
    maxNewTokens: get<number>('maxNewTokens') ?? null,
    maxLength: get<number>('maxLength') ?? null,
    minNewTokens: get<number>('minNewTokens') ?? null,
    minLength: get<number>('minLength') ?? 0,
    doSample: get<boolean>('doSample') ?? false,
    temperature: get<number>('temperature') ?? 1,
    topK: get<number>('topK') ?? 50,
    topP: get<number>('topP') ?? 1,
    repetitionPenalty: get<number>('repetitionPenalty') ?? 1,
    noRepeatNgramSize: get<number>('noRepeatNgramSize') ?? 0,
    eosTokenIds: get<number[]>('eosTokenId') ?? [],
    padTokenId: null,
    bosTokenId: get<number>('bosTokenId') ?? null,
    decoderStartTokenId: null,
    stopStrings: get<string[]>('stopStrings') ?? [],
  };
  config.padTokenId = get<number>('padTokenId') ?? config.eosTokenIds[0] ?? null;
  config.decoderStartTokenId = get<number>('decoderStartTokenId') ?? config.bosTokenId;
  const numBeams = get<number>('numBeams') ?? 1;
  if (numBeams !== 1) invalid(origins.get('numBeams')!, '1: beam search is not supported (greedy search or sampling only)', numBeams);
  if (config.doSample && !(config.temperature > 0)) {
    invalid(origins.get('temperature')!, 'a number > 0 when sampling (for greedy decoding set doSample: false)', config.temperature);
  }
  return config;
}

/** Total sequence lengths (prompt included) at which generation stops and below which EOS is suppressed. */
export function lengthLimits(config: GenerationConfig, promptLength: number): { maxLength: number; minLength: number } {
  const maxLength = config.maxNewTokens !== null ? promptLength + config.maxNewTokens : (config.maxLength ?? promptLength + DEFAULT_NEW_TOKENS);
  if (promptLength >= maxLength) {
    throw new GenerationConfigError('maxLength', `generation options: the prompt has ${promptLength} tokens but 'maxLength' is ${maxLength}, leaving none to generate; set 'maxNewTokens' instead`);
  }
  const minLength = config.minNewTokens !== null ? promptLength + config.minNewTokens : config.minLength;
  return { maxLength, minLength };
}
