// Saving a PiSSA / OLoRA adapter as a plain LoRA for the original base model (PEFT's save_pretrained with
// path_initial_model_for_weight_conversion). These inits move scaling·B0·A0 out of the base weight, so the trained
// model is W - s·B0·A0 + s·B·A = W + s·(B·A - B0·A0): the same as a LoRA of twice the rank with
// A' = [A; A0] and B' = [B, -B0] on the unchanged W, saved with r and alpha doubled (alpha·√2 under rsLoRA, so
// that the scaling stays the same).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toDtype } from '../../../engine/ops/cast.js';
import { concat } from '../../../engine/ops/join.js';
import { neg } from '../../../engine/ops/unary.js';
import { noGrad } from '../../../engine/autograd.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { PeftConfig } from '../../config.js';
import { AdapterError, AdapterWeightsError, ConfigError, UnsupportedError } from '../../errors.js';
import { loadPeftWeights, SAFETENSORS_WEIGHTS_NAME, WEIGHTS_NAME } from '../../utils/save-and-load.js';
import { warn } from '../../utils/warnings.js';
import { LoraConfig } from './config.js';

/** Inits whose initial adapter the conversion can subtract (true: B0 = 0, nothing to subtract). */
const CONVERTIBLE_INITS = ['pissa', 'corda', 'olora', 'lora_ga', 'true'];

/**
 * Throws before anything is written if adapter `adapterName` cannot be converted; warns, as PEFT means to, when
 * its init does not call for a conversion (with B0·A0 ≠ 0 and the base untouched, the result is wrong).
 */
export function checkConvertible(config: PeftConfig, adapterName: string): asserts config is LoraConfig {
  if (!(config instanceof LoraConfig)) {
    throw new UnsupportedError(`adapter '${adapterName}': path_initial_model_for_weight_conversion is only supported for LoRA, not ${config.peftType}`);
  }
  if (config.useRslora && (Object.keys(config.rankPattern).length > 0 || Object.keys(config.alphaPattern).length > 0)) {
    throw new ConfigError(
      'use_rslora',
      `of adapter '${adapterName}': path_initial_model_for_weight_conversion is not supported with rank_pattern or alpha_pattern at the same time as use_rslora`,
    );
  }
  if (config.loraBias) {
    throw new UnsupportedError(`adapter '${adapterName}': lora_bias cannot be converted with path_initial_model_for_weight_conversion (the bias has no rank to concatenate)`);
  }
  if (!CONVERTIBLE_INITS.some((prefix) => String(config.initLoraWeights).toLowerCase().startsWith(prefix))) {
    warn(
      `adapter '${adapterName}' has init_lora_weights=${JSON.stringify(config.initLoraWeights)}: path_initial_model_for_weight_conversion ` +
        'only works for converting a PiSSA/CorDA/OLoRA/LoRA-GA adapter to a LoRA adapter',
    );
  }
}

/** The config PEFT writes over the initial adapter's: the adapter's own with init_lora_weights true. */
export function initialAdapterConfig(config: LoraConfig): LoraConfig {
  const out = config.copy();
  out.initLoraWeights = true;
  return out;
}

/** The saved config of the converted adapter: r, lora_alpha and the patterns doubled (lora_alpha ·√2 under rsLoRA). */
export function convertedAdapterConfig(initial: LoraConfig): LoraConfig {
  const out = initial.copy();
  out.r *= 2;
  out.loraAlpha *= out.useRslora ? Math.SQRT2 : 2;
  const doubled = (record: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, 2 * v]));
  out.rankPattern = doubled(out.rankPattern);
  out.alphaPattern = doubled(out.alphaPattern);
  return out;
}

/** The tensors of the adapter saved at `path` right after initialisation, and the file they came from. */
export function readInitialAdapter(path: string): { weights: Map<string, Tensor>; file: string } {
  const safetensors = join(path, SAFETENSORS_WEIGHTS_NAME);
  const bin = join(path, WEIGHTS_NAME);
  const file = existsSync(safetensors) ? safetensors : existsSync(bin) ? bin : null;
  if (file === null) {
    throw new AdapterError(
      `path_initial_model_for_weight_conversion: ${path} has no ${SAFETENSORS_WEIGHTS_NAME} or ${WEIGHTS_NAME}; ` +
        'save the adapter there right after creating the model, before training',
    );
  }
  return { weights: loadPeftWeights({ format: file === safetensors ? 'safetensors' : 'pytorch', file }), file };
}

/**
 * PEFT's LoraModel.subtract_mutated_init: for every lora_A / lora_B entry of the saved state, [A; A0] and [B, -B0]
 * from the initial adapter's entries of the same keys (new tensors; `state` is left alone). Like PEFT, the result
 * holds nothing else; the entries left out are named in a warning.
 */
export function subtractMutatedInit(state: ReadonlyMap<string, Tensor>, initial: ReadonlyMap<string, Tensor>, initialFile: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const dropped: string[] = [];
  noGrad(() => {
    for (const [key, t] of state) {
      const isA = key.includes('lora_A');
      if (!isA && !key.includes('lora_B')) {
        dropped.push(key);
        continue;
      }
      const init = initial.get(key);
      if (init === undefined) {
        throw new AdapterWeightsError(initialFile, key, `has no '${key}': the initial adapter must be saved from this model, with the same targets, right after its creation`);
      }
      const f32 = init.dtype === 'float32' ? init : toDtype(init, 'float32');
      const signed = isA ? f32 : neg(f32);
      const part = signed.dtype === t.dtype ? signed : toDtype(signed, t.dtype);
      out.set(key, concat([t, part], isA ? 0 : 1));
      for (const temp of new Set([f32, signed, part])) if (temp !== init) temp.dispose();
    }
  });
  if (dropped.length > 0) {
    warn(`The converted adapter holds only lora_A and lora_B, as PEFT's conversion does; left out: ${dropped.map((k) => `'${k}'`).join(', ')}`);
  }
  return out;
}
