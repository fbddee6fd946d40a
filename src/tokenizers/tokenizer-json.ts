// tokenizer.json checked when it is loaded, as the tokenizers library checks it: @huggingface/tokenizers
// builds whatever it is given, so a malformed file would otherwise encode wrongly or fail later with
// an error that names no field. Each problem is reported with its JSON path and what was expected.
import { TokenizerError } from './errors.js';

type Json = Record<string, unknown>;

/** Checks one value; `at` is its JSON path. */
type Check = (value: unknown, at: string) => void;

/** The fields a model or pipeline component reads, each with its check. */
type Fields = Record<string, Check>;

/** A structural problem, reported without the file's name until it reaches readTokenizerJson. */
class Malformed extends Error {}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(at: string, expected: string, got: unknown): never {
  throw new Malformed(`${at} must be ${expected}, got ${show(got)}`);
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const quoted = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');

function object(value: unknown, at: string): Json {
  if (!isObject(value)) fail(at, 'an object', value);
  return value;
}

function list(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) fail(at, 'a list', value);
  return value;
}

const str: Check = (value, at) => {
  if (typeof value !== 'string') fail(at, 'a string', value);
};

const bool: Check = (value, at) => {
  if (typeof value !== 'boolean') fail(at, 'true or false', value);
};

const count: Check = (value, at) => {
  if (!Number.isSafeInteger(value) || (value as number) < 0) fail(at, 'a non-negative integer', value);
};

// Ids are u32 in the tokenizers library; 2^31 keeps them within the int32 tensors models take.
const isId = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 0 && (value as number) < 2 ** 31;

const id: Check = (value, at) => {
  if (!isId(value)) fail(at, 'an integer id in [0, 2^31)', value);
};

const optional =
  (check: Check): Check =>
  (value, at) => {
    if (value !== undefined && value !== null) check(value, at);
  };

const oneOf =
  (...values: string[]): Check =>
  (value, at) => {
    if (!values.includes(value as string)) fail(at, `one of ${quoted(values)}`, value);
  };

const listOf =
  (check: Check): Check =>
  (value, at) =>
    list(value, at).forEach((item, i) => check(item, `${at}[${i}]`));

/** A [token, id] pair (BertProcessing's and RobertaProcessing's cls and sep). */
const tokenWithId: Check = (value, at) => {
  const pair = list(value, at);
  if (pair.length !== 2) fail(at, 'a [token, id] pair', value);
  str(pair[0], `${at}[0]`);
  id(pair[1], `${at}[1]`);
};

/** A pattern of Replace and Split: {"String": text} or {"Regex": expression}. */
const pattern: Check = (value, at) => {
  const keys = Object.keys(object(value, at));
  if (keys.length !== 1 || !['String', 'Regex'].includes(keys[0]!)) fail(at, '{"String": text} or {"Regex": expression}', value);
  str((value as Json)[keys[0]!], `${at}.${keys[0]}`);
};

function checkFields(config: Json, fields: Fields, at: string): void {
  for (const [key, check] of Object.entries(fields)) check(config[key], `${at}.${key}`);
}

const fields =
  (spec: Fields): Check =>
  (value, at) =>
    checkFields(object(value, at), spec, at);

/** A pipeline component: an object whose "type" is one of `types` (those @huggingface/tokenizers builds). */
function component(types: Record<string, Check>, value: unknown, at: string): void {
  const config = object(value, at);
  const type = config.type;
  if (typeof type !== 'string' || !Object.hasOwn(types, type)) fail(`${at}.type`, `one of ${quoted(Object.keys(types))}`, type);
  types[type]!(config, at);
}

const SPLIT_BEHAVIORS = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
const replace = fields({ pattern, content: str });
const byteLevel = fields({ add_prefix_space: optional(bool), trim_offsets: optional(bool), use_regex: optional(bool) });
const metaspace = fields({
  replacement: optional(str),
  prepend_scheme: optional(oneOf('always', 'never', 'first')),
  add_prefix_space: optional(bool),
  split: optional(bool),
  str_rep: optional(str),
});
const none = fields({});

const NORMALIZERS: Record<string, Check> = {
  BertNormalizer: fields({ clean_text: optional(bool), handle_chinese_chars: optional(bool), strip_accents: optional(bool), lowercase: optional(bool) }),
  Precompiled: fields({ precompiled_charsmap: optional(str) }),
  Sequence: fields({ normalizers: listOf((value, at) => component(NORMALIZERS, value, at)) }),
  Replace: replace,
  NFC: none,
  NFD: none,
  NFKC: none,
  NFKD: none,
  Strip: fields({ strip_left: optional(bool), strip_right: optional(bool) }),
  StripAccents: none,
  Lowercase: none,
  Prepend: fields({ prepend: str }),
};

const PRE_TOKENIZERS: Record<string, Check> = {
  BertPreTokenizer: none,
  Sequence: fields({ pretokenizers: listOf((value, at) => component(PRE_TOKENIZERS, value, at)) }),
  Whitespace: none,
  WhitespaceSplit: none,
  Metaspace: metaspace,
  ByteLevel: byteLevel,
  Split: fields({ pattern, behavior: optional(oneOf(...SPLIT_BEHAVIORS)), invert: optional(bool) }),
  Punctuation: fields({ behavior: optional(oneOf(...SPLIT_BEHAVIORS)) }),
  Digits: fields({ individual_digits: optional(bool) }),
  Replace: replace,
  FixedLength: fields({
    length: (value, at) => {
      if (!Number.isSafeInteger(value) || (value as number) < 1) fail(at, 'a positive integer', value);
    },
  }),
};

/** One item of a template: {"SpecialToken": {id, type_id}} or {"Sequence": {id: "A" | "B", type_id}}. */
const templatePiece: Check = (value, at) => {
  const keys = Object.keys(object(value, at));
  if (keys.length !== 1 || !['SpecialToken', 'Sequence'].includes(keys[0]!)) fail(at, '{"SpecialToken": {...}} or {"Sequence": {...}}', value);
  const key = keys[0]!;
  const piece = object((value as Json)[key], `${at}.${key}`);
  checkFields(piece, { id: key === 'Sequence' ? oneOf('A', 'B') : str, type_id: count }, `${at}.${key}`);
};

const specialTokenDefinition: Check = (value, at) => {
  const token = object(value, at);
  checkFields(token, { id: str, ids: listOf(id), tokens: listOf(str) }, at);
  const ids = token.ids as unknown[];
  if ((token.tokens as unknown[]).length !== ids.length) fail(`${at}.tokens`, `a list of ${ids.length} tokens, one per id`, token.tokens);
};

/** TemplateProcessing, whose templates may only use special tokens that special_tokens defines (as the tokenizers library requires). */
const templateProcessing: Check = (value, at) => {
  const config = value as Json;
  checkFields(
    config,
    {
      single: listOf(templatePiece),
      pair: listOf(templatePiece),
      special_tokens: (tokens, where) => Object.entries(object(tokens, where)).forEach(([k, t]) => specialTokenDefinition(t, `${where}[${JSON.stringify(k)}]`)),
    },
    at,
  );
  for (const template of ['single', 'pair']) {
    (config[template] as Json[]).forEach((piece, i) => {
      const special = piece.SpecialToken as Json | undefined;
      if (special !== undefined && !Object.hasOwn(config.special_tokens as Json, special.id as string)) {
        throw new Malformed(`${at}.${template}[${i}].SpecialToken.id ${JSON.stringify(special.id)} is not defined in ${at}.special_tokens`);
      }
    });
  }
};

const POST_PROCESSORS: Record<string, Check> = {
  TemplateProcessing: templateProcessing,
  ByteLevel: byteLevel,
  BertProcessing: fields({ sep: tokenWithId, cls: tokenWithId }),
  RobertaProcessing: fields({ sep: tokenWithId, cls: tokenWithId, trim_offsets: optional(bool), add_prefix_space: optional(bool) }),
  Sequence: fields({ processors: listOf((value, at) => component(POST_PROCESSORS, value, at)) }),
};

const DECODERS: Record<string, Check> = {
  ByteLevel: byteLevel,
  WordPiece: fields({ prefix: str, cleanup: optional(bool) }),
  Metaspace: metaspace,
  BPEDecoder: fields({ suffix: optional(str) }),
  CTC: fields({ pad_token: optional(str), word_delimiter_token: optional(str), cleanup: optional(bool) }),
  Sequence: fields({ decoders: listOf((value, at) => component(DECODERS, value, at)) }),
  Replace: replace,
  Fuse: none,
  Strip: fields({ content: optional(str), start: optional(count), stop: optional(count) }),
  ByteFallback: none,
};

/** A token → id map (BPE's and WordPiece's vocab). */
function vocabMap(value: unknown, at: string): Json {
  if (!isObject(value)) fail(at, 'an object mapping each token to its id', value);
  // Paths are only spelled out on failure: vocabularies and merges run to 100k+ entries.
  for (const token in value) if (!isId(value[token])) id(value[token], `${at}[${JSON.stringify(token)}]`);
  return value;
}

/**
 * BPE merges: ["left", "right"] pairs, or "left right" strings as older files write them. As in the
 * tokenizers library, both tokens and the token they merge into must be in the vocab.
 */
function checkMerges(value: unknown, vocab: Json, continuingPrefix: string): void {
  const merges = list(value, 'model.merges');
  const asPairs = Array.isArray(merges[0]);
  merges.forEach((merge, i) => {
    const pair = asPairs ? merge : typeof merge === 'string' ? merge.split(' ') : null;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      fail(`model.merges[${i}]`, asPairs ? 'a pair of tokens ["left", "right"], like the first merge' : 'two tokens separated by one space ("left right"), like the first merge', merge);
    }
    const [left, right] = pair as [string, string];
    const merged = left + (continuingPrefix !== '' && right.startsWith(continuingPrefix) ? right.slice(continuingPrefix.length) : right);
    for (const token of [left, right, merged]) {
      if (!Object.hasOwn(vocab, token)) throw new Malformed(`model.merges[${i}] (${show(merge)}) needs ${JSON.stringify(token)}, which is not in model.vocab`);
    }
  });
}

function checkBpe(model: Json): void {
  const vocab = vocabMap(model.vocab, 'model.vocab');
  checkFields(
    model,
    {
      unk_token: optional(str),
      continuing_subword_prefix: optional(str),
      end_of_word_suffix: optional(str),
      fuse_unk: optional(bool),
      byte_fallback: optional(bool),
      ignore_merges: optional(bool),
      dropout: optional((value, at) => {
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(at, 'a probability in [0, 1]', value);
      }),
    },
    'model',
  );
  checkMerges(model.merges, vocab, (model.continuing_subword_prefix as string | null | undefined) ?? '');
}

function checkWordPiece(model: Json): void {
  vocabMap(model.vocab, 'model.vocab');
  checkFields(model, { unk_token: str, continuing_subword_prefix: str, max_input_chars_per_word: optional(count) }, 'model');
}

function checkUnigram(model: Json): void {
  const vocab = list(model.vocab, 'model.vocab');
  if (vocab.length === 0) fail('model.vocab', 'a non-empty list of [token, score] pairs', vocab);
  vocab.forEach((entry, i) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) {
      fail(`model.vocab[${i}]`, 'a [token, score] pair', entry);
    }
  });
  checkFields(model, { byte_fallback: optional(bool) }, 'model');
  if (model.unk_id !== undefined && model.unk_id !== null) {
    id(model.unk_id, 'model.unk_id');
    if ((model.unk_id as number) >= vocab.length) fail('model.unk_id', `an index into model.vocab (below ${vocab.length})`, model.unk_id);
  }
}

const MODELS: Record<string, (model: Json) => void> = { BPE: checkBpe, Unigram: checkUnigram, WordPiece: checkWordPiece };

/** The model, with its type made explicit for files written before the tokenizers library recorded it. */
function checkModel(value: unknown): Json {
  const model = object(value, 'model');
  const type = model.type ?? (Array.isArray(model.vocab) ? 'Unigram' : 'merges' in model ? 'BPE' : 'WordPiece');
  if (typeof type !== 'string' || !Object.hasOwn(MODELS, type)) fail('model.type', `one of ${quoted(Object.keys(MODELS))}`, type);
  MODELS[type]!(model);
  return model.type === type ? model : { ...model, type };
}

const addedToken = fields({
  id,
  content: str,
  single_word: optional(bool),
  lstrip: optional(bool),
  rstrip: optional(bool),
  normalized: optional(bool),
  special: optional(bool),
});

/** The model's unknown token must have an id, or encoding would yield no id where it is used. */
function checkUnkToken(model: Json, addedTokens: readonly Json[]): void {
  const unk = model.unk_token;
  if (typeof unk !== 'string' || Object.hasOwn(model.vocab as Json, unk) || addedTokens.some((t) => t.content === unk)) return;
  throw new Malformed(`model.unk_token ${JSON.stringify(unk)} is in neither model.vocab nor added_tokens`);
}

const COMPONENTS = { normalizer: NORMALIZERS, pre_tokenizer: PRE_TOKENIZERS, post_processor: POST_PROCESSORS, decoder: DECODERS };

/**
 * tokenizer.json (`file` names it in errors) checked for every part the tokenizer builds, with the
 * parts the tokenizers library lets a file leave out filled in.
 */
export function readTokenizerJson(json: unknown, file: string): Json {
  try {
    const top = object(json, 'the top level');
    const model = checkModel(top.model);
    const addedTokens = top.added_tokens ?? [];
    listOf(addedToken)(addedTokens, 'added_tokens');
    if (model.type !== 'Unigram') checkUnkToken(model, addedTokens as Json[]);
    const checked: Json = { ...top, model, added_tokens: addedTokens };
    for (const [key, types] of Object.entries(COMPONENTS)) {
      checked[key] = top[key] ?? null;
      if (checked[key] !== null) component(types, checked[key], key);
    }
    return checked;
  } catch (e) {
    if (e instanceof Malformed) throw new TokenizerError(`${file}: ${e.message}`);
    throw e;
  }
}
