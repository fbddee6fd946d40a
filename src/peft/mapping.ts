// Registries from peft_type to config class and to tuner class, filled by each method's modules when they are
// loaded (PEFT's PEFT_TYPE_TO_CONFIG_MAPPING / PEFT_TYPE_TO_TUNER_MAPPING / register_peft_method).
// PeftConfig.fromJSON dispatches through the first, PeftModel builds its tuner through the second.
import type { PeftConfig, FromJSONOptions } from './config.js';
import type { Module } from '../nn/module.js';
import type { PeftType, TaskType } from './utils/peft-types.js';

export interface PeftConfigClass {
  fromJSON(json: unknown, options?: FromJSONOptions): PeftConfig;
}

/**
 * A method's model-level tuner (PEFT's BaseTuner, e.g. LoraModel): wraps `model` as its child `model`, injects
 * the adapter layers and manages the adapters.
 */
export interface TunerModel extends Module {
  readonly model: Module;
  readonly peftConfig: Map<string, PeftConfig>;
  readonly activeAdapters: string[];
  /** Adds an adapter without activating it (its parameters stay frozen). */
  addAdapter(adapterName: string, config: PeftConfig): void;
  setAdapter(adapterName: string | string[]): void;
  deleteAdapter(adapterName: string): void;
  enableAdapterLayers(): void;
  disableAdapterLayers(): void;
  /** Runs fn with every adapter layer disabled, then restores them. */
  withDisabledAdapters<T>(fn: () => T): T;
  /** Runs fn with each batch row using its own adapter ("__base__" = none). */
  withAdapterNames<T>(adapterNames: readonly string[], fn: () => T): T;
  mergeAdapter(adapterNames?: string[]): void;
  unmergeAdapter(): void;
  mergeAndUnload(options?: { adapterNames?: string[] }): Module;
  unload(): Module;
  /** Wraps the named modules for training and saving with the adapter (PEFT's _set_trainable). */
  setModulesToSave(adapterName: string, moduleNames: readonly string[]): void;
}

export interface TunerOptions {
  /** transformers `config.model_type` of the model (default targets, "all-linear" head exclusion). */
  modelType?: string;
  taskType?: TaskType | null;
}

export type PeftTunerClass = new (model: Module, config: PeftConfig, adapterName: string, options: TunerOptions) => TunerModel;

const PEFT_TYPE_TO_CONFIG_MAPPING = new Map<PeftType, PeftConfigClass>();
const PEFT_TYPE_TO_TUNER_MAPPING = new Map<PeftType, PeftTunerClass>();

export function registerPeftConfig(peftType: PeftType, cls: PeftConfigClass): void {
  PEFT_TYPE_TO_CONFIG_MAPPING.set(peftType, cls);
}

export function getPeftConfigClass(peftType: PeftType): PeftConfigClass | undefined {
  return PEFT_TYPE_TO_CONFIG_MAPPING.get(peftType);
}

export function registeredPeftTypes(): PeftType[] {
  return [...PEFT_TYPE_TO_CONFIG_MAPPING.keys()];
}

export function registerPeftTuner(peftType: PeftType, cls: PeftTunerClass): void {
  PEFT_TYPE_TO_TUNER_MAPPING.set(peftType, cls);
}

export function getPeftTunerClass(peftType: PeftType): PeftTunerClass | undefined {
  return PEFT_TYPE_TO_TUNER_MAPPING.get(peftType);
}
