// Config checks shared by the methods that inject layers: every user pattern (target and exclude regexes,
// modules_to_save names, layers_pattern entries, rank/alpha pattern keys) must be a regex we can run where
// matching puts it (tuners-utils.ts, getPatternKey), so a bad one is refused when the config is built.
import { fail, type ParseContext } from './config-fields.js';
import { PythonRegexError, translatePythonRegex } from './python-regex.js';

/** Throws a ConfigError naming `path` when `pattern` is not a regex we can run. */
export function checkRegex(path: string, ctx: ParseContext, pattern: string, what: string): void {
  try {
    translatePythonRegex(pattern);
  } catch (e) {
    if (e instanceof PythonRegexError) fail(path, ctx, `${what}: ${e.message}`);
    throw e;
  }
}

/**
 * The pattern-bearing fields of a config (LoRA, AdaLoRA and the LyCORIS configs have them all; VeRA has no
 * exclude_modules or alpha_pattern). rank_pattern is checked apart with checkPatternKeys: AdaLoRA's names lora_E
 * parameters, not patterns.
 */
export interface PatternFields {
  targetModules: string | Set<string> | null;
  excludeModules: string | Set<string> | null;
  modulesToSave: string[] | null;
  layersToTransform: number | number[] | null;
  layersPattern: string | string[] | null;
  alphaPattern?: Record<string, number>;
}

/** The patterns must be runnable, and layers_pattern needs layers_to_transform (PEFT's __post_init__ check). */
export function checkPatterns(config: PatternFields, ctx: ParseContext): void {
  if (config.layersPattern !== null && config.layersPattern.length > 0 && config.layersToTransform === null) {
    fail('layers_pattern', ctx, 'requires layers_to_transform to be set as well');
  }
  if (typeof config.targetModules === 'string') checkRegex('target_modules', ctx, config.targetModules, 'is not a usable regex');
  if (typeof config.excludeModules === 'string') checkRegex('exclude_modules', ctx, config.excludeModules, 'is not a usable regex');
  for (const m of config.modulesToSave ?? []) {
    checkRegex('modules_to_save', ctx, `(^|.*\\.)${m}($|\\..*)`, `entry ${JSON.stringify(m)} is used as a regex and is not usable`);
  }
  const patterns = config.layersPattern === null ? [] : typeof config.layersPattern === 'string' ? [config.layersPattern] : config.layersPattern;
  for (const p of patterns) checkRegex('layers_pattern', ctx, `(?:^|.*?\\.)${p}\\.(?P<idx>\\d+)\\.`, `entry ${JSON.stringify(p)} is used as a regex and is not usable`);
  if (config.alphaPattern !== undefined) checkPatternKeys('alpha_pattern', config.alphaPattern, ctx);
}

/** A regex target_modules (one string) selects layers itself: PEFT refuses layers_to_transform and layers_pattern beside it. */
export function checkRegexTargetLayers(config: PatternFields, ctx: ParseContext): void {
  if (typeof config.targetModules !== 'string') return;
  if (config.layersToTransform !== null) fail('layers_to_transform', ctx, 'cannot be used when target_modules is a regex string');
  if (config.layersPattern !== null) fail('layers_pattern', ctx, 'cannot be used when target_modules is a regex string');
}

/** Each key of a rank_pattern / alpha_pattern must be a regex getPatternKey can run. */
export function checkPatternKeys(path: string, record: Record<string, number>, ctx: ParseContext): void {
  for (const k of Object.keys(record)) checkRegex(path, ctx, `(.*\\.)?(${k})$`, `key ${JSON.stringify(k)} is not a usable regex`);
}

/** Options given as Sets or other iterables become arrays, which the config's list fields parse. */
export function iterablesAsArrays(options: object, keys: readonly string[]): Record<string, unknown> {
  const input = { ...options } as Record<string, unknown>;
  for (const key of keys) {
    const v = input[key];
    if (v != null && typeof v !== 'string' && !Array.isArray(v) && Symbol.iterator in Object(v)) input[key] = [...(v as Iterable<unknown>)];
  }
  return input;
}
