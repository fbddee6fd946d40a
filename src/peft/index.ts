// PEFT: configs, target matching, tuners, PeftModel, adapter saving and loading.
export { AdapterError, AdapterWeightsError, ConfigError, TargetModulesError } from './errors.js';
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
export { registerPeftTuner, type TunerModel, type TunerOptions, type PeftTunerClass } from './mapping.js';
export * from './peft-model.js';
export { getPeftModel, type GetPeftModelOptions } from './mapping-func.js';
export {
  getPeftModelStateDict,
  setPeftModelStateDict,
  loadPeftWeights,
  selectAdapterStateDict,
  remapAdapterStateDictForLoad,
  removeAdapterNameFromKey,
  type PeftStateLayout,
  type AuxModuleLayout,
} from './utils/save-and-load.js';
/** transformers-style adapters injected into a PreTrainedModel itself (addAdapter, loadAdapter, setAdapter, …). */
export * as transformersAdapters from './integrations/transformers.js';
