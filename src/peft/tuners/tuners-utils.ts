// Target-module matching as PEFT's tuners_utils: check_target_module_exists, the "all-linear" expansion and
// _find_minimal_target_modules. A model is described by its module list (named_modules order, root '').
import { TargetModulesError } from '../errors.js';
import { SEQ_CLS_HEAD_NAMES } from '../utils/constants.js';
import { matchTargetAgainstKey } from '../utils/other.js';
import { compareCodePoints } from '../utils/python-json.js';
import { pyMatch } from '../utils/python-regex.js';

export interface ModuleInfo {
  /** Dotted name as in named_modules(); the root module is ''. */
  name: string;
  /** Layer kind: 'Linear', 'Conv1D', 'Embedding', 'LayerNorm', … (a subclass of Linear reports 'Linear'). */
  type: string;
  /** The module get_output_embeddings() returns (lm_head, embed_out, …), never targeted by "all-linear". */
  isOutputEmbedding?: boolean;
  /** An adapter layer from an earlier adapter: its sub-modules are never targeted. */
  isTunerLayer?: boolean;
}

/** The target-selection settings of a config (LoraConfig has them all). */
export interface TargetConfig {
  targetModules: string | Set<string> | null;
  excludeModules: string | Set<string> | null;
  modulesToSave: string[] | null;
  layersToTransform: number | number[] | null;
  layersPattern: string | string[] | null;
  targetParameters: string[] | null;
}

/** Whether a module gets an adapter: 'excluded' is a match vetoed by exclude_modules or modules_to_save. */
export type TargetVerdict = 'targeted' | 'excluded' | 'unmatched';

const LINEAR_TYPES = new Set(['Linear', 'Conv1D']);

function matchesNameList(names: Set<string>, key: string): boolean {
  if (names.has(key)) return true;
  for (const n of names) if (key.endsWith(`.${n}`)) return true;
  return false;
}

/** The layer index of `key` as the layer filter sees it, or null when it has none. */
function layerIndex(key: string, layersPattern: string | string[] | null): number | null {
  let m: RegExpExecArray | null = null;
  if (layersPattern === null || layersPattern.length === 0) {
    // The first numbered segment preceded by a dotted segment (lazy: the layer, not a nested expert index).
    m = pyMatch('.*?\\.[^.]*\\.(?P<idx>\\d+)\\.', key);
  } else {
    for (const p of typeof layersPattern === 'string' ? [layersPattern] : layersPattern) {
      m = pyMatch(`(?:^|.*?\\.)${p}\\.(?P<idx>\\d+)\\.`, key);
      if (m !== null) break;
    }
  }
  const idx = m?.groups?.['idx'];
  return idx === undefined ? null : Number(idx);
}

/** PEFT's check_target_module_exists for one dotted module name. */
export function checkTargetModuleExists(config: TargetConfig, key: string): TargetVerdict {
  const exclude = config.excludeModules;
  if (exclude !== null) {
    if (typeof exclude === 'string' ? exclude !== '' && matchTargetAgainstKey(exclude, key) : matchesNameList(exclude, key)) return 'excluded';
  }
  // An adapter never goes inside a module that is trained and saved whole. The names are used unescaped.
  for (const m of config.modulesToSave ?? []) {
    if (pyMatch(`(^|.*\\.)${m}($|\\..*)`, key) !== null) return 'excluded';
  }
  const targets = config.targetModules;
  if (targets === null) return 'unmatched';
  if (typeof targets === 'string') return matchTargetAgainstKey(targets, key) ? 'targeted' : 'unmatched';
  if (targets.has(key)) return 'targeted';
  let found = false;
  for (const t of targets) if (key.endsWith(`.${t}`)) found = true;
  const layers = config.layersToTransform;
  const usesLayerFilter = layers !== null && (typeof layers === 'number' || layers.length > 0);
  if (found && usesLayerFilter) {
    const idx = layerIndex(key, config.layersPattern);
    found = idx !== null && (typeof layers === 'number' ? idx === layers : layers.includes(idx));
  }
  return found ? 'targeted' : 'unmatched';
}

/**
 * "all-linear": the names of every Linear / Conv1D module (and earlier adapter layers wrapping one), minus
 * the output embedding of a transformers model — or, for SEQ_CLS without one, its `score`/`classifier`
 * head — and minus anything inside an adapter layer.
 */
export function allLinearModuleNames(modules: readonly ModuleInfo[], options: { isTransformersModel: boolean; taskType: string | null }): Set<string> {
  const excluded = new Set<string>();
  if (options.isTransformersModel) {
    const head = modules.find((m) => m.isOutputEmbedding);
    if (head !== undefined) {
      excluded.add(head.name);
    } else if (options.taskType === 'SEQ_CLS') {
      const cls = SEQ_CLS_HEAD_NAMES.find((n) => modules.some((m) => m.name === n));
      if (cls !== undefined) excluded.add(cls);
    }
  }
  const tunerPrefixes = modules.filter((m) => m.isTunerLayer).map((m) => `${m.name}.`);
  const names = new Set<string>();
  for (const m of modules) {
    const linear = LINEAR_TYPES.has(m.type) || (m.isTunerLayer === true && m.type.includes('Linear'));
    if (!linear || excluded.has(m.name) || tunerPrefixes.some((p) => m.name.startsWith(p))) continue;
    names.add(m.name);
  }
  return names;
}

function suffixes(name: string): string[] {
  const parts = name.split('.');
  return parts.map((_, i) => parts.slice(parts.length - 1 - i).join('.'));
}

function compareLists(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = compareCodePoints(a[i]!, b[i]!);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * PEFT's _find_minimal_target_modules: the fewest dot-suffixes that select every target and none of
 * `otherModuleNames`; the targets themselves when no suffix helps.
 */
export function findMinimalTargetModules(targetModules: Iterable<string>, otherModuleNames: Iterable<string>): Set<string> {
  const targets = new Set(targetModules);
  if (targets.size === 0) throw new TargetModulesError('findMinimalTargetModules: target modules must be a non-empty list of names');
  if (targets.has('')) throw new TargetModulesError('findMinimalTargetModules: target modules must not contain an empty name');
  const others = new Set(otherModuleNames);
  const common = [...targets].filter((t) => others.has(t));
  if (common.length > 0) throw new TargetModulesError(`findMinimalTargetModules: ${JSON.stringify(common)} are both targets and other modules`);
  const otherSuffixes = new Set([...others].flatMap(suffixes));
  const required = new Set<string>();
  const items = [...targets].map((t) => ({ t, s: suffixes(t) })).sort((x, y) => compareLists(x.s, y.s));
  for (const { t, s } of items) {
    for (const suffix of s) {
      if (required.has(suffix) || otherSuffixes.has(suffix)) continue;
      if (![...required].some((r) => t.endsWith(`.${r}`))) {
        required.add(suffix);
        break;
      }
    }
  }
  return required.size === 0 ? targets : required;
}
