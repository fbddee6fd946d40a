// Helpers PEFT keeps in peft/utils/other.py: target and pattern matching, prompt-learning config preparation,
// parameter counts.
import { AdapterError, ConfigError } from '../errors.js';
import type { Module } from '../../nn/module.js';
import { pyFullmatch, pyMatch } from './python-regex.js';

/**
 * An adapter name becomes a module and parameter name segment (`lora_A.<name>.weight`) and a save subfolder, so, as
 * PyTorch's add_module requires, it is a non-empty string without '.'.
 */
export function checkAdapterName(name: unknown): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new AdapterError(`adapter name must be a non-empty string without '.', got ${JSON.stringify(name) ?? String(name)}`);
  }
}

/** A str `target_modules` selects a module when the regex matches its whole dotted name. */
export function matchTargetAgainstKey(targetPattern: string, key: string): boolean {
  return pyFullmatch(targetPattern, key) !== null;
}

/**
 * The rank_pattern / alpha_pattern key that applies to module `key`: the first (in order) whose regex
 * matches the end of the name at a dot boundary or the whole name; `key` itself when none does.
 */
export function getPatternKey(patternKeys: Iterable<string>, key: string): string {
  for (const pattern of patternKeys) {
    if (pyMatch(`(.*\\.)?(${pattern})$`, key) !== null) return pattern;
  }
  return key;
}

/** The rank (or alpha) rank_pattern (alpha_pattern) gives module `key`, `fallback` when no key applies. */
export function patternValue(pattern: Record<string, number>, key: string, fallback: number): number {
  const k = getPatternKey(Object.keys(pattern), key);
  return Object.hasOwn(pattern, k) ? pattern[k]! : fallback;
}

type RawModelConfig = Record<string, unknown>;

function firstInt(config: RawModelConfig, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = config[k];
    if (typeof v === 'number' && Number.isInteger(v)) return v;
  }
  return undefined;
}

/** head_dim and KV-head count of a grouped-query model, provisioned for its widest layers as PEFT does. */
function kvShape(config: RawModelConfig, tokenDim: number, heads: number): { headDim: number; kvHeads: number } {
  const baseKv = config['num_key_value_heads'] as number;
  if (typeof config['global_head_dim'] === 'number') {
    return { headDim: config['global_head_dim'], kvHeads: firstInt(config, ['num_global_key_value_heads']) || baseKv };
  }
  const baseHeadDim = typeof config['head_dim'] === 'number' ? config['head_dim'] : Math.floor(tokenDim / heads);
  const perLayer = config['per_layer_config'];
  if (perLayer !== null && typeof perLayer === 'object') {
    let best = { headDim: baseHeadDim, kvHeads: baseKv };
    for (const layer of Object.values(perLayer as Record<string, RawModelConfig>)) {
      const headDim = firstInt(layer, ['head_dim']) ?? baseHeadDim;
      if (headDim > best.headDim) best = { headDim, kvHeads: firstInt(layer, ['num_key_value_heads']) ?? baseKv };
    }
    return best;
  }
  return { headDim: baseHeadDim, kvHeads: baseKv };
}

/** What preparePromptLearningConfig fills in. */
export interface PromptLearningShape {
  peftType: string | null;
  numLayers: number | null;
  tokenDim: number | null;
  numAttentionHeads: number | null;
  encoderHiddenSize?: number | null;
}

/**
 * PEFT's _prepare_prompt_learning_config: fills num_layers, token_dim and num_attention_heads from the model's
 * config.json (its text_config for vision-language models) where the config leaves them unset; for prefix tuning on
 * a model with num_key_value_heads, token_dim becomes head_dim · num_key_value_heads and the heads the KV heads;
 * encoder_hidden_size defaults to token_dim.
 */
export function preparePromptLearningConfig<C extends PromptLearningShape>(config: C, modelConfig: { raw: RawModelConfig } | RawModelConfig): C {
  let raw = ('raw' in modelConfig && typeof modelConfig['raw'] === 'object' ? modelConfig['raw'] : modelConfig) as RawModelConfig;
  if (raw['text_config'] !== null && typeof raw['text_config'] === 'object') raw = raw['text_config'] as RawModelConfig;
  const pick = (field: 'numLayers' | 'tokenDim' | 'numAttentionHeads', key: string, names: readonly string[]): number => {
    const value = config[field] ?? firstInt(raw, names);
    if (value === undefined) throw new ConfigError(key, `is not set and the model config has none of ${names.join(', ')}; set it in the PEFT config`);
    config[field] = value;
    return value;
  };
  pick('numLayers', 'num_layers', ['num_hidden_layers', 'num_layers', 'n_layer']);
  const tokenDim = pick('tokenDim', 'token_dim', ['hidden_size', 'n_embd', 'd_model']);
  const heads = pick('numAttentionHeads', 'num_attention_heads', ['num_attention_heads', 'n_head', 'num_heads', 'encoder_attention_heads']);
  if (config.peftType === 'PREFIX_TUNING' && typeof raw['num_key_value_heads'] === 'number') {
    const { headDim, kvHeads } = kvShape(raw, tokenDim, heads);
    config.tokenDim = headDim * kvHeads;
    config.numAttentionHeads = kvHeads;
  }
  if ('encoderHiddenSize' in config && config.encoderHiddenSize === null) config.encoderHiddenSize = config.tokenDim;
  return config;
}

/** Trainable and total parameter counts of `module` (a tied weight counted once). */
export function countParameters(module: Module): { trainable: number; all: number } {
  let trainable = 0;
  let all = 0;
  for (const [, t] of module.namedParameters()) {
    all += t.size;
    if (t.requiresGrad) trainable += t.size;
  }
  return { trainable, all };
}
