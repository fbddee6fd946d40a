// Typed errors raised by the PEFT layer: bad configuration values and target modules that match nothing.
import { PeftjsError } from '../engine/errors.js';

/** A configuration value is missing, of the wrong type or inconsistent with another one. */
export class ConfigError extends PeftjsError {
  override name = 'ConfigError';
  constructor(
    /** The offending key as written by the caller (`rank_pattern`, `eva_config.rho`, …), if one applies. */
    readonly key: string | undefined,
    detail: string,
    /** The file the configuration came from, if any. */
    readonly source?: string,
  ) {
    const where = source === undefined ? '' : `${source}: `;
    super(key === undefined ? `${where}${detail}` : `${where}'${key}' ${detail}`);
  }
}

/** Adapter weights that do not fit the model: wrong shapes, keys of modules the model lacks, unknown adapters. */
export class AdapterWeightsError extends PeftjsError {
  override name = 'AdapterWeightsError';
  constructor(
    /** The weights file, if the problem comes from one. */
    readonly file: string | undefined,
    /** The first offending state-dict key, if one applies. */
    readonly key: string | undefined,
    detail: string,
  ) {
    super(file === undefined ? detail : `${file}: ${detail}`);
  }
}

/** The target-module settings select no usable module of the model. */
export class TargetModulesError extends PeftjsError {
  override name = 'TargetModulesError';
}

/** An adapter name that does not exist (or already does), or an adapter operation the current state forbids. */
export class AdapterError extends PeftjsError {
  override name = 'AdapterError';
}

/** Merging an adapter into the base weights failed (non-finite values, a layer that cannot take the merge). */
export class MergeError extends PeftjsError {
  override name = 'MergeError';
  constructor(
    /** Dotted name of the layer, or its class name when the layer is used on its own. */
    readonly module: string,
    readonly adapter: string,
    detail: string,
  ) {
    super(`${module}: cannot merge adapter '${adapter}': ${detail}`);
  }
}

/** A PEFT option or layer type this library does not implement. */
export class UnsupportedError extends PeftjsError {
  override name = 'UnsupportedError';
}
