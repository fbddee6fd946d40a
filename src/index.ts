// peftjs: parameter-efficient fine-tuning of transformer models in TypeScript.
export * from './engine/index.js';
export { ConfigError, TargetModulesError } from './peft/errors.js';
export { PeftConfig, type PeftConfigOptions, type FromJSONOptions, type SaveOptions, type AutoMapping } from './peft/config.js';
export { registerPeftConfig, type PeftConfigClass } from './peft/mapping.js';
export * from './peft/tuners/lora/config.js';
export type * from './peft/tuners/lora/sub-configs.js';
export * from './peft/tuners/tuners-utils.js';
export * from './peft/tuners/match-targets.js';
export { PeftType, TaskType } from './peft/utils/peft-types.js';
export * from './peft/utils/constants.js';
export { getPatternKey } from './peft/utils/other.js';
export { pythonFloat } from './peft/utils/python-json.js';
export { PythonRegexError, translatePythonRegex, pyFullmatch, pyMatch } from './peft/utils/python-regex.js';
export { setWarningHandler, type WarningHandler } from './peft/utils/warnings.js';
