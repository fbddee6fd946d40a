// Which modules of a model get an adapter, resolved as PEFT's BaseTuner.inject_adapter does before it
// creates any layer: default targets per model type, "all-linear", the suffix compression of long target
// lists, then check_target_module_exists on every module, and PEFT's errors and warnings.
import { TargetModulesError } from '../errors.js';
import {
  DUMMY_TARGET_MODULES,
  INCLUDE_LINEAR_LAYERS_SHORTHAND,
  MIN_TARGET_MODULES_FOR_OPTIMIZATION,
  TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING,
} from '../utils/constants.js';
import { nearestNames } from '../utils/nearest-names.js';
import { pyMatch } from '../utils/python-regex.js';
import { describe } from '../utils/config-fields.js';
import { warn } from '../utils/warnings.js';
import { allLinearModuleNames, checkTargetModuleExists, findMinimalTargetModules, type ModuleInfo, type TargetConfig } from './tuners-utils.js';

export interface MatchTargetsConfig extends TargetConfig {
  peftType: string | null;
  taskType: string | null;
  /** LoRA's ranks by module pattern; AdaLoRA's kept triplets by lora_E parameter (not checked here). */
  rankPattern?: Record<string, number> | Record<string, boolean[]> | null;
  alphaPattern?: Record<string, number>;
}

export interface MatchTargetsOptions {
  /** The transformers `config.model_type`; leave out for a model that is not a transformers model. */
  modelType?: string;
}

export interface TargetMatch {
  /**
   * `target_modules` after resolution (defaults, "all-linear", compression). PEFT stores this in the
   * config, so it is what adapter_config.json must record: assign it to `config.targetModules`.
   */
  targetModules: string | Set<string>;
  /** Modules that get an adapter, in module order. */
  targeted: string[];
  /** Modules that matched but are vetoed by exclude_modules or modules_to_save. */
  excluded: string[];
  unmatched: string[];
}

function resolveDefaults(config: MatchTargetsConfig, modelType: string): string | Set<string> | null {
  if (config.targetModules !== null) return config.targetModules;
  const defaults = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING[modelType];
  if (defaults !== undefined) return typeof defaults === 'string' ? defaults : new Set(defaults);
  if (config.targetParameters !== null && config.targetParameters.length > 0) return null;
  throw new TargetModulesError(
    `target_modules is not set and there are no default target modules for model type '${modelType}'; ` +
      'set targetModules (names such as ["q_proj", "v_proj"], a regex, or "all-linear") or targetParameters',
  );
}

function layerNote(config: MatchTargetsConfig): string {
  let note = '';
  if (config.layersToTransform !== null) note += ` Note: layers_to_transform is ${describe(config.layersToTransform)}.`;
  if (config.layersPattern !== null) note += ` layers_pattern is ${describe(config.layersPattern)}.`;
  return note;
}

/** "Did you mean" hints for list entries that match no module at all. */
function suggestions(targets: string | Set<string>, modules: readonly ModuleInfo[]): string {
  const names = modules.map((m) => m.name).filter((n) => n !== '');
  if (typeof targets === 'string') {
    const kinds = new Set(['Linear', 'Conv1D', 'Embedding', 'Conv2d', 'Conv1d', 'Conv3d']);
    const layers = [...new Set(modules.filter((m) => kinds.has(m.type)).map((m) => m.name.slice(m.name.lastIndexOf('.') + 1)))];
    return layers.length === 0 ? '' : ` Layers the model has: ${layers.slice(0, 12).join(', ')}${layers.length > 12 ? ', …' : ''}.`;
  }
  const hints: string[] = [];
  for (const t of targets) {
    if (names.some((n) => n === t || n.endsWith(`.${t}`))) continue;
    const near = nearestNames(t, names);
    if (near.length > 0) hints.push(`'${t}' → did you mean ${near.map((s) => `'${s}'`).join(' or ')}?`);
  }
  return hints.length === 0 ? '' : ` ${hints.join(' ')}`;
}

/**
 * Resolves the config's targets on a model described by `modules` (every module in named_modules order,
 * the root '' included). Throws TargetModulesError when nothing would be adapted, naming the nearest real
 * module names; warns (like PEFT) about unused exclude_modules and rank/alpha pattern keys.
 */
export function matchTargets(modules: readonly ModuleInfo[], config: MatchTargetsConfig, options: MatchTargetsOptions = {}): TargetMatch {
  const isTransformersModel = options.modelType !== undefined;
  let targetModules = resolveDefaults(config, options.modelType ?? 'custom');
  const result: TargetMatch = { targetModules: targetModules ?? new Set(), targeted: [], excluded: [], unmatched: [] };
  if (targetModules === DUMMY_TARGET_MODULES) return result;

  if (typeof targetModules === 'string' && targetModules.toLowerCase() === INCLUDE_LINEAR_LAYERS_SHORTHAND) {
    targetModules = allLinearModuleNames(modules, { isTransformersModel, taskType: config.taskType });
  }
  if (targetModules instanceof Set && targetModules.size >= MIN_TARGET_MODULES_FOR_OPTIMIZATION && config.peftType !== 'IA3') {
    const targets = targetModules;
    const others = modules.map((m) => m.name).filter((n) => !targets.has(n) && ![...targets].some((t) => n.endsWith(`.${t}`)));
    const minimal = findMinimalTargetModules(targets, others);
    if (minimal.size < targetModules.size) targetModules = minimal;
  }
  if (targetModules !== null) result.targetModules = targetModules;

  const effective: TargetConfig = { ...config, targetModules };
  const tunerPrefixes = modules.filter((m) => m.isTunerLayer).map((m) => `${m.name}.`);
  for (const { name } of modules) {
    if (name === '' || tunerPrefixes.some((p) => name.startsWith(p))) continue;
    const verdict = checkTargetModuleExists(effective, name);
    (verdict === 'targeted' ? result.targeted : verdict === 'excluded' ? result.excluded : result.unmatched).push(name);
  }

  const usesParameters = config.targetParameters !== null && config.targetParameters.length > 0;
  const hasTargets = targetModules !== null && (typeof targetModules === 'string' ? targetModules !== '' : targetModules.size > 0);
  const shown = targetModules === null ? 'null' : describe(targetModules);
  if (result.targeted.length === 0 && !usesParameters) {
    const { excluded, unmatched } = result;
    if (excluded.length > 0 && unmatched.length === 0) {
      throw new TargetModulesError(
        `every module matched by target_modules ${shown} is excluded (by exclude_modules or modules_to_save); check these settings.`,
      );
    }
    if (excluded.length === 0 && unmatched.length > 0 && !hasTargets) {
      throw new TargetModulesError('target_modules is empty and no target_parameters are given, so nothing would be adapted.');
    }
    const hint = targetModules === null ? '' : suggestions(targetModules, modules);
    if (excluded.length === 0 && unmatched.length > 0) {
      throw new TargetModulesError(`target_modules ${shown} matched no module of the model.${layerNote(config)}${hint}`);
    }
    throw new TargetModulesError(
      `no module was selected: the target_modules ${shown} that matched are excluded by exclude_modules or modules_to_save, ` +
        `and the rest matched nothing.${layerNote(config)}${hint}`,
    );
  }
  const exclude = config.excludeModules;
  if (exclude !== null && (typeof exclude === 'string' ? exclude !== '' : exclude.size > 0) && result.excluded.length === 0) {
    warn(`exclude_modules ${describe(exclude)} excluded no module; check that it is set correctly.`);
  } else if (hasTargets && result.targeted.length === 0) {
    warn(`target_modules ${shown} matched no module (only target_parameters are adapted).`);
  }
  // AdaLoRA's rank_pattern names lora_E parameters, not modules (PEFT warns about each of its keys when loading).
  const rankPattern = config.peftType === 'ADALORA' ? null : config.rankPattern;
  for (const [name, patterns] of [['rank_pattern', rankPattern], ['alpha_pattern', config.alphaPattern]] as const) {
    const unused = Object.keys(patterns ?? {})
      .filter((k) => !result.targeted.some((t) => pyMatch(`(.*\\.)?(${k})$`, t) !== null))
      .sort();
    if (unused.length > 0) warn(`${name} keys ${JSON.stringify(unused)} match no targeted module and are ignored.`);
  }
  return result;
}
