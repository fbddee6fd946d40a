// tokenizer_config.json (plus the legacy special_tokens_map.json and chat_template.jinja) read the
// way transformers reads them: named special tokens, padding/truncation sides, model_max_length,
// decode clean-up and chat templates.
import { TokenizerError } from './errors.js';

export const SPECIAL_TOKEN_NAMES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
export type SpecialTokenName = (typeof SPECIAL_TOKEN_NAMES)[number];

/** transformers' VERY_LARGE_INTEGER: the max length of a tokenizer that sets none. */
export const NO_MAX_LENGTH = 1e30;

export type Side = 'left' | 'right';

export interface TokenizerSettings {
  specialTokens: Record<SpecialTokenName, string | null>;
  paddingSide: Side;
  truncationSide: Side;
  modelMaxLength: number;
  cleanUpTokenizationSpaces: boolean;
  /** Whether clean-up applies to BPE models too (transformers skips it for them by default). */
  cleanUpForBpe: boolean;
  /** One template, named templates, or none. */
  chatTemplate: string | Record<string, string> | null;
}

type Json = Record<string, unknown>;

/** A special token value: a string or an AddedToken object ({content: ...}). */
function tokenContent(value: unknown, key: string, file: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string;
  throw new TokenizerError(`${file}: "${key}" must be a string or an object with a string "content", got ${JSON.stringify(value)}`);
}

/** Checked only: @huggingface/tokenizers reads additional_special_tokens itself, as a list. */
function checkAdditionalSpecialTokens(value: unknown, file: string): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw new TokenizerError(`${file}: "additional_special_tokens" must be a list of tokens, got ${JSON.stringify(value)}`);
  value.forEach((token, i) => tokenContent(token, `additional_special_tokens[${i}]`, file));
}

function side(value: unknown, key: string, file: string): Side {
  if (value === undefined || value === null) return 'right';
  if (value === 'left' || value === 'right') return value;
  throw new TokenizerError(`${file}: "${key}" must be "left" or "right", got ${JSON.stringify(value)}`);
}

function chatTemplates(value: unknown, file: string): string | Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named: Record<string, string> = {};
    for (const entry of value) {
      const e = entry as Json;
      if (typeof e?.name !== 'string' || typeof e?.template !== 'string') {
        throw new TokenizerError(`${file}: "chat_template" entries must be {"name": string, "template": string}`);
      }
      named[e.name] = e.template;
    }
    return named;
  }
  throw new TokenizerError(`${file}: "chat_template" must be a string or a list of named templates`);
}

export interface ConfigSources {
  config: Json;
  configFile?: string;
  specialTokensMap?: Json | null;
  /** Contents of chat_template.jinja, which takes priority over the config's chat_template. */
  chatTemplateFile?: string | null;
}

export function readTokenizerSettings(src: ConfigSources): TokenizerSettings {
  const file = src.configFile ?? 'tokenizer_config.json';
  // Like transformers: special_tokens_map.json only counts for configs without added_tokens_decoder.
  const legacy = src.config.added_tokens_decoder === undefined ? (src.specialTokensMap ?? {}) : {};
  const specialTokens = Object.fromEntries(
    SPECIAL_TOKEN_NAMES.map((k) => [k, k in legacy ? tokenContent(legacy[k], k, 'special_tokens_map.json') : tokenContent(src.config[k], k, file)]),
  ) as Record<SpecialTokenName, string | null>;
  checkAdditionalSpecialTokens(src.config.additional_special_tokens, file);
  const maxLen = src.config.model_max_length;
  if (maxLen !== undefined && maxLen !== null && (typeof maxLen !== 'number' || !(maxLen > 0))) {
    throw new TokenizerError(`${file}: "model_max_length" must be a positive number, got ${JSON.stringify(maxLen)}`);
  }
  return {
    specialTokens,
    paddingSide: side(src.config.padding_side, 'padding_side', file),
    truncationSide: side(src.config.truncation_side, 'truncation_side', file),
    modelMaxLength: typeof maxLen === 'number' ? maxLen : NO_MAX_LENGTH,
    cleanUpTokenizationSpaces: src.config.clean_up_tokenization_spaces === true,
    cleanUpForBpe: src.config.clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output === true,
    chatTemplate: src.chatTemplateFile ?? chatTemplates(src.config.chat_template, file),
  };
}
