// PEFT: configs, target matching, tuners.
export { ConfigError, TargetModulesError } from './errors.js';
export { PeftConfig, type PeftConfigOptions, type FromJSONOptions, type SaveOptions, type AutoMapping } from './config.js';
export { registerPeftConfig, type PeftConfigClass } from './mapping.js';
export * from './tuners/lora/config.js';
export type * from './tuners/lora/sub-configs.js';
export * from './tuners/tuners-utils.js';
export * from './tuners/match-targets.js';
export { PeftType, TaskType } from './utils/peft-types.js';
export * from './utils/constants.js';
export { getPatternKey } from './utils/other.js';
export { pythonFloat } from './utils/python-json.js';
export { PythonRegexError, translatePythonRegex, pyFullmatch, pyMatch } from './utils/python-regex.js';
export { setWarningHandler, type WarningHandler } from './utils/warnings.js';
