// A tokenizer as transformers' fast tokenizers behave: @huggingface/tokenizers runs the pipeline of
// tokenizer.json; tokenizer_config.json supplies special tokens, padding/truncation sides, max length
// and the chat template.
import { Tokenizer as CoreTokenizer } from '@huggingface/tokenizers';
import { padBatch, truncateFramed, type BatchEncoding, type FramedIds } from './batch.js';
import { renderChat, selectTemplate, type ChatMessage, type RenderOptions } from './chat-template.js';
import { NO_MAX_LENGTH, readTokenizerSettings, type Side, type SpecialTokenName, type TokenizerSettings } from './config.js';
import { TokenizerError } from './errors.js';
import { OffsetAligner, type Offset } from './offsets.js';
import { buildModelInputs, type EncodedInputs, type PostProcessor } from './special-inputs.js';
import { readTokenizerJson } from './tokenizer-json.js';

export interface EncodeOptions {
  /** Add the post-processor's special tokens (BOS, [CLS]/[SEP], …); default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** Default: tokenizer_config.json's clean_up_tokenization_spaces (never applied to BPE models unless forced there). */
  cleanUpTokenizationSpaces?: boolean;
}

export interface BatchOptions extends EncodeOptions {
  /** true/'longest': to the longest row; 'max_length': to maxLength; false/'do_not_pad' (default): no padding. */
  padding?: boolean | 'longest' | 'max_length' | 'do_not_pad';
  /** Truncate each text to maxLength (default model_max_length) tokens, special tokens included. */
  truncation?: boolean;
  maxLength?: number;
  paddingSide?: Side;
  /** Which end truncation removes tokens from (default: tokenizer_config.json's truncation_side). */
  truncationSide?: Side;
}

export interface ChatTemplateOptions extends RenderOptions {
  /** Return token ids (the default, as in transformers) instead of the rendered text. */
  tokenize?: boolean;
}

export interface EncodingWithOffsets {
  ids: number[];
  /** Per token, [start, end) in UTF-16 code units of the text; [0, 0] for added special tokens. */
  offsets: Offset[];
}

export interface TokenizerSource {
  /** Parsed tokenizer.json. */
  tokenizerJson: Record<string, unknown>;
  /** Parsed tokenizer_config.json ({} when absent). */
  tokenizerConfig?: Record<string, unknown>;
  /** Parsed special_tokens_map.json (legacy). */
  specialTokensMap?: Record<string, unknown> | null;
  /** Contents of chat_template.jinja. */
  chatTemplate?: string | null;
  /** Name used in error messages (e.g. the folder). */
  name?: string;
}

function checkIds(ids: readonly number[], what: string): void {
  if (!Array.isArray(ids) || !ids.every((i) => Number.isInteger(i))) {
    throw new TokenizerError(`${what}: token ids must be an array of integers`);
  }
}

export class Tokenizer {
  private readonly core: CoreTokenizer;
  private readonly settings: TokenizerSettings;
  private readonly isBpe: boolean;
  private split: [number, number] | null = null;
  private aligner: OffsetAligner | null = null;
  private readonly tokenizerJson: Record<string, unknown>;
  readonly name: string;

  constructor(src: TokenizerSource) {
    this.name = src.name ?? 'tokenizer';
    const config = src.tokenizerConfig ?? {};
    this.settings = readTokenizerSettings({
      config,
      configFile: `${this.name}: tokenizer_config.json`,
      specialTokensMap: src.specialTokensMap ?? null,
      chatTemplateFile: src.chatTemplate ?? null,
    });
    this.tokenizerJson = readTokenizerJson(src.tokenizerJson, `${this.name}: tokenizer.json`);
    try {
      this.core = new CoreTokenizer(this.tokenizerJson, config);
    } catch (e) {
      throw new TokenizerError(`${this.name}: tokenizer.json is not a supported tokenizer (${(e as Error).message})`, { cause: e });
    }
    this.isBpe = (this.tokenizerJson.model as { type: string }).type === 'BPE';
  }

  get paddingSide(): Side {
    return this.settings.paddingSide;
  }

  get truncationSide(): Side {
    return this.settings.truncationSide;
  }

  get modelMaxLength(): number {
    return this.settings.modelMaxLength;
  }

  get chatTemplate(): string | Record<string, string> | null {
    return this.settings.chatTemplate;
  }

  /** The named special tokens (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token). */
  get specialTokens(): Readonly<Record<SpecialTokenName, string | null>> {
    return this.settings.specialTokens;
  }

  get bosToken(): string | null {
    return this.settings.specialTokens.bos_token;
  }
  get eosToken(): string | null {
    return this.settings.specialTokens.eos_token;
  }
  get padToken(): string | null {
    return this.settings.specialTokens.pad_token;
  }
  get unkToken(): string | null {
    return this.settings.specialTokens.unk_token;
  }

  get bosTokenId(): number | null {
    return this.specialId('bos_token');
  }
  get eosTokenId(): number | null {
    return this.specialId('eos_token');
  }
  get padTokenId(): number | null {
    return this.specialId('pad_token');
  }
  get unkTokenId(): number | null {
    return this.specialId('unk_token');
  }

  /** Id of a named special token; an unknown token maps to the unknown-token id, as in transformers. */
  specialId(name: SpecialTokenName): number | null {
    const token = this.settings.specialTokens[name];
    if (token === null) return null;
    return this.tokenToId(token) ?? (name === 'unk_token' || this.unkToken === null ? null : this.tokenToId(this.unkToken));
  }

  tokenToId(token: string): number | null {
    return this.core.token_to_id(token) ?? null;
  }

  idToToken(id: number): string | null {
    return this.core.id_to_token(id) ?? null;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TokenizerError(`${this.name}: encode expects a string, got ${typeof text}`);
    return this.core.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  /** Token ids with each token's character offsets, like transformers' return_offsets_mapping. */
  encodeWithOffsets(text: string, opts: EncodeOptions = {}): EncodingWithOffsets {
    if (typeof text !== 'string') throw new TokenizerError(`${this.name}: encodeWithOffsets expects a string, got ${typeof text}`);
    const { ids, tokens } = this.core.encode(text, { add_special_tokens: false });
    if (this.aligner === null) {
      const added = new Set([...this.core.get_added_tokens_decoder().values()].map((t) => t.content));
      this.aligner = new OffsetAligner(this.tokenizerJson, added, this.unkToken, this.name);
    }
    const offsets = this.aligner.align(text, tokens);
    if (!(opts.addSpecialTokens ?? true)) return { ids, offsets };
    const built = this.buildInputsWithSpecialTokens(ids);
    let next = 0;
    return { ids: built.inputIds, offsets: built.sequenceIds.map((s) => (s === null ? [0, 0] : offsets[next++]!)) };
  }

  /**
   * transformers' build_inputs_with_special_tokens for the token ids of one text or a pair (from
   * encode with addSpecialTokens: false), with the token type ids and sequence ids of the result.
   */
  buildInputsWithSpecialTokens(first: readonly number[], second?: readonly number[]): EncodedInputs {
    checkIds(first, `${this.name}: buildInputsWithSpecialTokens`);
    if (second !== undefined) checkIds(second, `${this.name}: buildInputsWithSpecialTokens`);
    return buildModelInputs(this.core.post_processor as PostProcessor | null, (t) => this.tokenToId(t), first, second ?? null, this.name);
  }

  /** How many special tokens the post-processor adds to one text (or a pair). */
  numSpecialTokensToAdd(pair = false): number {
    return this.buildInputsWithSpecialTokens([], pair ? [] : undefined).inputIds.length;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    checkIds(ids, `${this.name}: decode`);
    const known = ids.filter((id) => this.core.id_to_token(id) !== undefined);
    if (known.length === 0) return '';
    const cleanUp = (opts.cleanUpTokenizationSpaces ?? this.settings.cleanUpTokenizationSpaces) && (!this.isBpe || this.settings.cleanUpForBpe);
    return this.core.decode(known, { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: cleanUp });
  }

  /** How many special tokens the post-processor puts before and after a single text. */
  private specialSplit(): [number, number] {
    if (this.split === null) {
      const content = this.encode('a', { addSpecialTokens: false });
      const full = this.encode('a', { addSpecialTokens: true });
      const extra = full.length - content.length;
      const before = Array.from({ length: extra + 1 }, (_, i) => i).find((start) => content.every((id, i) => full[start + i] === id));
      if (before === undefined) {
        throw new TokenizerError(`${this.name}: cannot truncate: the post-processor does not keep the text's tokens together`);
      }
      this.split = [before, extra - before];
    }
    return this.split;
  }

  /** Splits an encoding into the special tokens around the text and the text's own tokens. */
  private framed(text: string, addSpecialTokens: boolean): FramedIds {
    const ids = this.encode(text, { addSpecialTokens });
    if (!addSpecialTokens) return { prefix: [], content: ids, suffix: [] };
    const [before, after] = this.specialSplit();
    return { prefix: ids.slice(0, before), content: ids.slice(before, ids.length - after), suffix: ids.slice(ids.length - after) };
  }

  /** Encodes several texts, with optional truncation and padding (and the attention masks). */
  encodeBatch(texts: readonly string[], opts: BatchOptions = {}): BatchEncoding {
    const addSpecial = opts.addSpecialTokens ?? true;
    const padding = opts.padding === true ? 'longest' : opts.padding === false || opts.padding === undefined ? 'do_not_pad' : opts.padding;
    if (!['longest', 'max_length', 'do_not_pad'].includes(padding)) {
      throw new TokenizerError(`${this.name}: padding must be true, false, 'longest', 'max_length' or 'do_not_pad', got ${JSON.stringify(opts.padding)}`);
    }
    const maxLength = opts.maxLength ?? this.modelMaxLength;
    if (!(Number.isInteger(maxLength) && maxLength > 0) && maxLength !== NO_MAX_LENGTH) {
      throw new TokenizerError(`${this.name}: maxLength must be a positive integer, got ${maxLength}`);
    }
    if (padding === 'max_length' && maxLength === NO_MAX_LENGTH) {
      throw new TokenizerError(`${this.name}: padding 'max_length' needs maxLength (this tokenizer has no model_max_length)`);
    }
    const rows = texts.map((t) =>
      opts.truncation ? truncateFramed(this.framed(t, addSpecial), maxLength, opts.truncationSide ?? this.truncationSide) : this.encode(t, { addSpecialTokens: addSpecial }),
    );
    if (padding === 'do_not_pad') return { inputIds: rows, attentionMask: rows.map((r) => r.map(() => 1)) };
    const padId = this.padTokenId;
    if (padId === null) {
      throw new TokenizerError(`${this.name}: cannot pad: the tokenizer has no pad_token (set one in tokenizer_config.json, e.g. the eos_token)`);
    }
    const target = padding === 'max_length' ? maxLength : Math.max(0, ...rows.map((r) => r.length));
    return padBatch(rows, target, padId, opts.paddingSide ?? this.paddingSide);
  }

  /** Renders a conversation with the chat template; returns token ids (tokenize: true, the default) or the text. */
  applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions & { tokenize: false }): string;
  applyChatTemplate(messages: readonly ChatMessage[], opts?: ChatTemplateOptions & { tokenize?: true }): number[];
  applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string | number[] {
    const template = selectTemplate(this.settings.chatTemplate, opts.chatTemplate, opts.tools !== undefined);
    const text = renderChat(template, messages, this.settings.specialTokens, opts);
    return opts.tokenize === false ? text : this.encode(text, { addSpecialTokens: false });
  }
}

