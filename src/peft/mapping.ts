// Registry from peft_type to config class, filled by each method's config module when it is loaded
// (PEFT's PEFT_TYPE_TO_CONFIG_MAPPING / register_peft_method). PeftConfig.fromJSON dispatches through it.
import type { PeftConfig, FromJSONOptions } from './config.js';
import type { PeftType } from './utils/peft-types.js';

export interface PeftConfigClass {
  fromJSON(json: unknown, options?: FromJSONOptions): PeftConfig;
}

const PEFT_TYPE_TO_CONFIG_MAPPING = new Map<PeftType, PeftConfigClass>();

export function registerPeftConfig(peftType: PeftType, cls: PeftConfigClass): void {
  PEFT_TYPE_TO_CONFIG_MAPPING.set(peftType, cls);
}

export function getPeftConfigClass(peftType: PeftType): PeftConfigClass | undefined {
  return PEFT_TYPE_TO_CONFIG_MAPPING.get(peftType);
}

export function registeredPeftTypes(): PeftType[] {
  return [...PEFT_TYPE_TO_CONFIG_MAPPING.keys()];
}
