// PeftConfig: the fields every PEFT method's config shares (PEFT's PeftConfigMixin + PeftConfig), reading
// adapter_config.json (snake_case or camelCase keys, unknown keys warned about and ignored) and writing it
// byte-for-byte as PEFT does. fromJSON/fromPretrained on PeftConfig dispatch on `peft_type`.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { getPeftConfigClass, registeredPeftTypes } from './mapping.js';
import {
  bool,
  dumpFields,
  field,
  isPlainObject,
  listOf,
  literal,
  nullable,
  plainJson,
  positiveInt,
  readFields,
  str,
  subConfig,
  type Field,
  type JsonValue,
  type ParseContext,
} from './utils/config-fields.js';
import { CONFIG_NAME, PEFT_VERSION } from './utils/constants.js';
import { PeftType, TaskType, isPeftType } from './utils/peft-types.js';
import { dumpsPython, type PyJson } from './utils/python-json.js';
import { warn } from './utils/warnings.js';
import { writeTextAtomic } from '../io/atomic-write.js';

/** Where the base model class lives, for models that are not covered by a task type. */
export interface AutoMapping {
  baseModelClass: string | null;
  parentLibrary: string | null;
}

export interface PeftConfigOptions {
  taskType?: TaskType | null;
  /** Ignored by concrete configs, which set their own type (as PEFT does). */
  peftType?: PeftType | null;
  autoMapping?: AutoMapping | null;
  /** Defaults to the PEFT version whose format this library writes. */
  peftVersion?: string | null;
  baseModelNameOrPath?: string | null;
  revision?: string | null;
  inferenceMode?: boolean;
}

export interface FromJSONOptions {
  /** The file the JSON came from, named in errors and warnings. */
  source?: string;
}

export interface SaveOptions {
  /** Written as `auto_mapping` when the config has no task type (PEFT records the base model class then). */
  autoMapping?: { baseModelClass: string; parentLibrary: string };
  /**
   * The inference_mode written: true (the default) as PeftModel.save_pretrained writes it; pass the config's own
   * value to write what PEFT's PeftConfig.save_pretrained writes.
   */
  inferenceMode?: boolean;
}

const autoMappingType = subConfig<AutoMapping>('an auto mapping', [
  field('base_model_class', nullable(str), () => null),
  field('parent_library', nullable(str), () => null),
]);

export const PEFT_CONFIG_FIELDS: readonly Field[] = [
  field('task_type', nullable(literal(...Object.values(TaskType))), () => null),
  field('peft_type', nullable(literal(...Object.values(PeftType))), () => null),
  field('auto_mapping', nullable(autoMappingType), () => null),
  field('peft_version', nullable(str), () => null),
  field('base_model_name_or_path', nullable(str), () => null),
  field('revision', nullable(str), () => null),
  field('inference_mode', bool, () => false),
];

/** The fields prompt-learning methods add (PEFT's PromptLearningConfig); model-derived ones are filled by preparePromptLearningConfig. */
export const PROMPT_LEARNING_FIELDS: readonly Field[] = [
  ...PEFT_CONFIG_FIELDS,
  field('num_virtual_tokens', nullable(positiveInt), () => null),
  field('token_dim', nullable(positiveInt), () => null),
  field('num_transformer_submodules', nullable(positiveInt), () => null),
  field('num_attention_heads', nullable(positiveInt), () => null),
  field('num_layers', nullable(positiveInt), () => null),
  field('modules_to_save', nullable(listOf(str)), () => null),
];

/** How options given to a constructor are read: unknown keys are errors. */
export function strictContext(): ParseContext {
  return { lenient: false, unknown: [] };
}

function lenientContext(options: FromJSONOptions): ParseContext {
  return { source: options.source, lenient: true, unknown: [] };
}

function asJsonObject(json: unknown, ctx: ParseContext): Record<string, unknown> {
  if (!isPlainObject(json)) throw new ConfigError(undefined, `a PEFT config must be a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`, ctx.source);
  return json;
}

/** Reads adapter_config.json from an adapter folder, or the given file. */
function readConfigFile(path: string): { json: unknown; source: string } {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, CONFIG_NAME);
  } catch {
    throw new ConfigError(undefined, `no adapter folder or config file at ${path}`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(undefined, `no ${CONFIG_NAME} in ${path}`);
  }
  try {
    return { json: JSON.parse(text), source: file };
  } catch (e) {
    throw new ConfigError(undefined, `is not valid JSON (${(e as Error).message})`, file);
  }
}

export abstract class PeftConfig {
  declare taskType: TaskType | null;
  declare peftType: PeftType | null;
  declare autoMapping: AutoMapping | null;
  declare peftVersion: string;
  declare baseModelNameOrPath: string | null;
  declare revision: string | null;
  declare inferenceMode: boolean;

  /** Every field saved to adapter_config.json, in PEFT's declaration order. */
  protected abstract get configFields(): readonly Field[];

  /** Whether the method prepends virtual tokens or a KV prefix instead of injecting layers. */
  get isPromptLearning(): boolean {
    return false;
  }

  /** Sets the fields from options or parsed JSON, then runs the checks of PEFT's __post_init__. */
  protected assign(input: Record<string, unknown>, ctx: ParseContext): void {
    Object.assign(this, readFields(input, this.configFields, '', ctx));
    this.postInit(ctx);
  }

  protected postInit(_ctx: ParseContext): void {
    this.peftVersion ??= PEFT_VERSION;
  }

  private dump(): { [key: string]: PyJson } {
    return dumpFields(this as unknown as Record<string, unknown>, this.configFields);
  }

  /** A deep copy (PEFT's `copy.deepcopy(config)`), of the same class, without running the config checks again. */
  copy(): this {
    const out = Object.create(Object.getPrototypeOf(this) as object) as this;
    return Object.assign(out, structuredClone({ ...this }));
  }

  /** The config as PEFT's `to_dict()`: every saved key, snake_case, sets as lists. */
  toDict(): { [key: string]: JsonValue } {
    return plainJson(this.dump()) as { [key: string]: JsonValue };
  }

  toJSON(): { [key: string]: JsonValue } {
    return this.toDict();
  }

  /** The exact text PEFT writes to adapter_config.json when saving an adapter (inference_mode true unless `options` say otherwise). */
  toJsonString(options: SaveOptions = {}): string {
    const dict = this.dump();
    dict['inference_mode'] = options.inferenceMode ?? true;
    if (this.taskType === null && options.autoMapping !== undefined) {
      dict['auto_mapping'] = { base_model_class: options.autoMapping.baseModelClass, parent_library: options.autoMapping.parentLibrary };
    }
    return dumpsPython(dict);
  }

  /** Writes `<dir>/adapter_config.json` (atomically), creating the folder. */
  save(dir: string, options: SaveOptions = {}): void {
    let isFile = false;
    try {
      isFile = statSync(dir).isFile();
    } catch {
      // does not exist yet
    }
    if (isFile) throw new ConfigError(undefined, `cannot save to ${dir}: it is a file, expected a folder`);
    mkdirSync(dir, { recursive: true });
    writeTextAtomic(join(dir, CONFIG_NAME), this.toJsonString(options));
  }

  /** Builds the config class named by `peft_type` from parsed adapter_config.json. */
  static fromJSON(json: unknown, options: FromJSONOptions = {}): PeftConfig {
    const ctx = lenientContext(options);
    const obj = asJsonObject(json, ctx);
    const peftType = 'peft_type' in obj ? obj['peft_type'] : obj['peftType'];
    if (peftType === undefined) throw new ConfigError('peft_type', 'is missing; this does not look like a PEFT adapter config', ctx.source);
    if (!isPeftType(peftType)) throw new ConfigError('peft_type', `must be one of ${Object.values(PeftType).join(', ')}, got ${JSON.stringify(peftType)}`, ctx.source);
    const cls = getPeftConfigClass(peftType);
    if (cls === undefined) {
      throw new ConfigError('peft_type', `is ${peftType}, which is not supported yet (supported: ${registeredPeftTypes().join(', ')})`, ctx.source);
    }
    return cls.fromJSON(obj, options);
  }

  /** Reads `<dir>/adapter_config.json` (or the given file) and builds the matching config class. */
  static fromPretrained<T extends PeftConfig>(this: { fromJSON(json: unknown, options?: FromJSONOptions): T }, path: string): T {
    const { json, source } = readConfigFile(path);
    return this.fromJSON(json, { source });
  }

  /**
   * Builds a `cls` instance from parsed JSON as PEFT's from_peft_type does: a stray `runtime_config` is
   * dropped, keys the class does not know are reported in one warning and ignored (a file with such keys
   * and no `peft_type` is refused: it is probably not an adapter config), missing keys take defaults.
   */
  protected static loadJSON<T extends PeftConfig>(cls: { prototype: T; name: string }, peftType: PeftType, json: unknown, options: FromJSONOptions): T {
    const ctx = lenientContext(options);
    const obj = { ...asJsonObject(json, ctx) };
    for (const key of ['runtime_config', 'runtimeConfig']) {
      if (key in obj) {
        warn(`${ctx.source ?? 'The config'} has a '${key}' key; it is ignored (runtime settings are never saved).`);
        delete obj[key];
      }
    }
    const cfg = Object.create(cls.prototype) as T;
    const fields = cfg.configFields;
    const unknownTop = Object.keys(obj).filter((k) => !fields.some((f) => f.key === k || f.prop === k));
    const given = 'peft_type' in obj ? obj['peft_type'] : obj['peftType'];
    if (unknownTop.length > 0 && given === undefined) {
      throw new ConfigError('peft_type', `is missing and the file has keys ${cls.name} does not know (${unknownTop.join(', ')}); this does not look like a PEFT adapter config`, ctx.source);
    }
    if (given !== undefined && given !== peftType) {
      throw new ConfigError('peft_type', `is ${JSON.stringify(given)}, expected ${JSON.stringify(peftType)} for ${cls.name} (PeftConfig.fromJSON picks the class by peft_type)`, ctx.source);
    }
    cfg.assign(obj, ctx);
    if (ctx.unknown.length > 0) {
      const where = ctx.source === undefined ? '' : ` in ${ctx.source}`;
      warn(
        `Unknown keys ${JSON.stringify([...ctx.unknown].sort())}${where} are ignored by ${cls.name}; ` +
          'the config was probably saved by a newer PEFT version that added them.',
      );
    }
    return cfg;
  }
}

export interface PromptLearningConfigOptions extends PeftConfigOptions {
  numVirtualTokens?: number | null;
  tokenDim?: number | null;
  numTransformerSubmodules?: number | null;
  numAttentionHeads?: number | null;
  numLayers?: number | null;
  modulesToSave?: string[] | null;
}

/** Base of prompt tuning, p-tuning and prefix tuning configs (PEFT's PromptLearningConfig). */
export abstract class PromptLearningConfig extends PeftConfig {
  declare numVirtualTokens: number | null;
  /** Hidden size of the model (for prefix tuning on GQA models: head_dim · num_key_value_heads). */
  declare tokenDim: number | null;
  /** 2 for encoder-decoder models (SEQ_2_SEQ_LM), else 1; set when the adapter is added. */
  declare numTransformerSubmodules: number | null;
  declare numAttentionHeads: number | null;
  declare numLayers: number | null;
  declare modulesToSave: string[] | null;

  override get isPromptLearning(): boolean {
    return true;
  }
}
