// The fields every transformers config shares, read from config.json (snake_case) with
// transformers' defaults. Family configs extend this and read their own fields with the same helpers.
import { ModelConfigError } from './errors.js';

export type RawConfig = Record<string, unknown>;
export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';

/** Typed accessors over a raw config dict; every error names the config key and the file. */
export class ConfigReader {
  constructor(
    readonly raw: RawConfig,
    readonly source = 'config.json',
  ) {}

  private fail(key: string, expected: string): never {
    throw new ModelConfigError(`${this.source}: "${key}" must be ${expected}, got ${JSON.stringify(this.raw[key])}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** The first of `keys` that is present (transformers' attribute aliases, e.g. n_embd / hidden_size). */
  private pick(keys: readonly string[]): string | undefined {
    return keys.find((k) => this.has(k));
  }

  int(keys: string | readonly string[], fallback?: number): number {
    const list = typeof keys === 'string' ? [keys] : keys;
    const key = this.pick(list);
    if (key === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.source}: missing required field "${list[0]}"${list.length > 1 ? ` (or ${list.slice(1).join(', ')})` : ''}`);
    }
    const v = this.raw[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, 'an integer');
    return v;
  }

  /** A size or a count: an integer ≥ 1. */
  positiveInt(keys: string | readonly string[], fallback?: number): number {
    return this.bounded(this.int(keys, fallback), keys, (v) => v >= 1, 'a positive integer');
  }

  intOrNull(keys: string | readonly string[]): number | null {
    const list = typeof keys === 'string' ? [keys] : keys;
    return this.pick(list) === undefined ? null : this.int(list);
  }

  num(keys: string | readonly string[], fallback?: number): number {
    const list = typeof keys === 'string' ? [keys] : keys;
    const key = this.pick(list);
    if (key === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.source}: missing required field "${list[0]}"`);
    }
    const v = this.raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'a number');
    return v;
  }

  /** A number > 0 (a rope base or scaling factor). */
  positiveNum(keys: string | readonly string[], fallback?: number): number {
    return this.bounded(this.num(keys, fallback), keys, (v) => v > 0, 'a positive number');
  }

  /** A number ≥ 0: a norm's epsilon (the engine takes 0; a negative one would turn rows of small variance into NaN). */
  nonNegativeNum(keys: string | readonly string[], fallback?: number): number {
    return this.bounded(this.num(keys, fallback), keys, (v) => v >= 0, 'a non-negative number');
  }

  private bounded(v: number, keys: string | readonly string[], ok: (v: number) => boolean, expected: string): number {
    if (ok(v)) return v;
    const list = typeof keys === 'string' ? [keys] : keys;
    this.fail(this.pick(list) ?? list[0]!, expected);
  }

  str(key: string, fallback?: string): string {
    if (!this.has(key)) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.source}: missing required field "${key}"`);
    }
    const v = this.raw[key];
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.raw[key];
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  /** An int, a list of ints, or null (eos_token_id may be either). */
  ids(key: string): number[] {
    if (!this.has(key)) return [];
    const v = this.raw[key];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === 'number' && Number.isInteger(x))) this.fail(key, 'an integer or a list of integers');
    return list as number[];
  }

  object(key: string): RawConfig | null {
    if (!this.has(key)) return null;
    const v = this.raw[key];
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'an object');
    return v as RawConfig;
  }
}

/** Fields common to every model config (transformers' PretrainedConfig). */
export class PretrainedConfig {
  readonly modelType: string;
  readonly architectures: string[];
  readonly vocabSize: number;
  readonly padTokenId: number | null;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  readonly tieWordEmbeddings: boolean;
  readonly numLabels: number;
  readonly id2label: Record<string, string>;
  readonly problemType: ProblemType | null;
  readonly initializerRange: number;
  readonly isEncoderDecoder: boolean;
  /** The raw dict, written back by savePretrained so unknown fields survive a round trip. */
  readonly raw: RawConfig;
  /** Where the dict came from, named in errors (the config.json path when loaded from a folder). */
  readonly source: string;

  constructor(raw: RawConfig, source = 'config.json') {
    const r = new ConfigReader(raw, source);
    this.raw = raw;
    this.source = source;
    this.modelType = r.str('model_type');
    const arch = raw.architectures;
    this.architectures = Array.isArray(arch) ? arch.filter((a): a is string => typeof a === 'string') : [];
    this.vocabSize = r.positiveInt('vocab_size');
    this.padTokenId = r.intOrNull('pad_token_id');
    this.bosTokenId = r.intOrNull('bos_token_id');
    this.eosTokenIds = r.ids('eos_token_id');
    this.tieWordEmbeddings = r.bool('tie_word_embeddings', true);
    const labels = r.object('id2label');
    this.id2label = labels === null ? {} : Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
    this.numLabels = r.positiveInt('num_labels', Object.keys(this.id2label).length || 2);
    const problem = raw.problem_type ?? null;
    if (problem !== null && problem !== 'regression' && problem !== 'single_label_classification' && problem !== 'multi_label_classification') {
      throw new ModelConfigError(`${source}: "problem_type" must be regression, single_label_classification or multi_label_classification, got ${JSON.stringify(problem)}`);
    }
    this.problemType = problem;
    this.initializerRange = r.num('initializer_range', 0.02);
    this.isEncoderDecoder = r.bool('is_encoder_decoder', false);
  }

  /**
   * A lower bound on the parameters every model built from this config holds, checked against the
   * machine's memory before any is allocated. Families count their embedding and layer weight
   * matrices; a config of no known family claims nothing.
   */
  minParameterCount(): number {
    return 0;
  }
}
