// An AdaLoRA adapter saved with a rank_pattern holds only the kept triplets: rows of lora_A and lora_E, columns of
// lora_B (PEFT's resize_state_dict_by_rank_pattern). Loading such an adapter first shrinks each layer to its kept
// rank, keeping ranknum — and so the output scaling — at the rank the layer was trained with
// (resize_modules_by_rank_pattern).
import { fromArray } from '../../../engine/ops/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError } from '../../errors.js';
import type { AdaLoraConfig, AdaLoraRankPattern } from './config.js';
import { SVDLinear } from './layer.js';

/** The module a rank_pattern key (`<module>.lora_E`, or `<module>.lora_E.<adapter>`) belongs to. */
function layerName(key: string, adapterName: string): string {
  const parts = key.split('.');
  return parts.slice(0, key.endsWith(`.${adapterName}`) ? -2 : -1).join('.');
}

/** The pattern's keys without the adapter name, as PEFT writes them to adapter_config.json. */
export function stripAdapterName(pattern: AdaLoraRankPattern, adapterName: string): AdaLoraRankPattern {
  return Object.fromEntries(Object.entries(pattern).map(([k, v]) => [k.replaceAll(`.${adapterName}`, ''), v]));
}

/** The rows (or, `columns`, the columns) of a 2-D tensor where `keep` is true, as a new tensor. */
function selectRank(t: Tensor, keep: readonly boolean[], columns: boolean, key: string): Tensor {
  const [rows, cols] = t.shape as [number, number];
  if (keep.length !== (columns ? cols : rows)) {
    throw new AdapterError(`rank_pattern for ${key} has ${keep.length} entries but the tensor has shape [${rows}, ${cols}]`);
  }
  const src = t.data();
  const out: number[] = [];
  const kept = keep.filter(Boolean).length;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (keep[columns ? j : i]) out.push(src[i * cols + j]!);
  return fromArray(out, columns ? [rows, kept] : [kept, cols]);
}

/**
 * Replaces, in a saved state dict whose keys start with `prefix`, each layer's lora_E, lora_A and lora_B by their
 * kept triplets (new tensors); tensors already of the kept rank stay as they are.
 */
export function resizeStateDictByRankPattern(state: Map<string, Tensor>, pattern: AdaLoraRankPattern, adapterName: string, prefix: string): void {
  for (const [name, keep] of Object.entries(pattern)) {
    const rank = keep.filter(Boolean).length;
    const layer = layerName(name, adapterName);
    for (const kind of ['lora_E', 'lora_A', 'lora_B']) {
      const key = `${prefix}${layer}.${kind}`;
      const t = state.get(key);
      if (t === undefined) throw new AdapterError(`rank_pattern names ${name}, but adapter '${adapterName}' has no ${key}`);
      const columns = kind === 'lora_B';
      if (rank !== t.shape[columns ? 1 : 0]) state.set(key, selectRank(t, keep, columns, key));
    }
  }
}

/** Shrinks each layer `pattern` names to its kept triplets (the values carried over), ranknum unchanged. */
export function resizeModulesByRankPattern(model: Module, pattern: AdaLoraRankPattern, adapterName: string, config: AdaLoraConfig): void {
  for (const [name, keep] of Object.entries(pattern)) {
    const key = layerName(name, adapterName);
    const layer = model.getSubmodule(key);
    if (!(layer instanceof SVDLinear)) throw new AdapterError(`rank_pattern names ${name}, but ${key} is not an AdaLoRA layer`);
    const { A, E, B } = layer.factors(adapterName);
    const kept = [selectRank(A, keep, false, `${key}.lora_A`), selectRank(E, keep, false, `${key}.lora_E`), selectRank(B, keep, true, `${key}.lora_B`)];
    const ranknum = layer.ranknum.get(adapterName)!.data()[0]!;
    const rank = keep.filter(Boolean).length;
    layer.updateLayer(adapterName, config, { r: rank, loraAlpha: config.loraAlpha });
    if (rank > 0) {
      const now = layer.factors(adapterName);
      [now.A, now.E, now.B].forEach((t, i) => t.data().set(kept[i]!.data()));
      layer.ranknum.get(adapterName)!.data()[0] = ranknum;
    }
    for (const t of kept) t.dispose();
  }
}
