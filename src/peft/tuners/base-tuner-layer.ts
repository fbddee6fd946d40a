// What every adapter layer shares (PEFT's BaseTunerLayer): the wrapped `base_layer`, per-adapter containers whose
// keys are adapter names, the active adapters, the disabled flag and the list of adapters merged into the base.
import { scope } from '../../engine/scope.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModuleDict, ParameterDict } from '../../nn/containers.js';
import { Module } from '../../nn/module.js';
import { AdapterError, MergeError, UnsupportedError } from '../errors.js';
import { warn } from '../utils/warnings.js';

/** Adapter containers: one entry per adapter (a module or a parameter). */
export type AdapterContainer = ModuleDict | ParameterDict;

export interface MergeOptions {
  /** Merge into a copy first and refuse non-finite results (slower). */
  safeMerge?: boolean;
  /** Adapters to merge; the active ones when left out. */
  adapterNames?: string[];
}

/** Whether every value is finite: what a merge checks its result for. */
export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * What a merge without safeMerge warns when it left NaN or infinite values in the base weights (PEFT's
 * merges say nothing, and the broken weights would go unnoticed until the model is used).
 */
export function nonFiniteMergeWarning(label: string, adapter: string): string {
  return `${label}: merging adapter '${adapter}' put NaN or infinite values into the base weights; the adapter seems to be broken (merge with safeMerge: true to refuse such merges)`;
}

/**
 * Changes float32 base tensors (a weight and its bias) as a merge does. `change` gets their values: with `safe`
 * copies, written back only when every result is finite (else a MergeError and the tensors are left alone); without,
 * the tensors' own memory, and a warning when the result holds NaN or infinite values.
 */
export function mergeChecked(label: string, adapter: string, tensors: readonly Tensor[], safe: boolean, change: (values: Float32Array[]) => void): void {
  const values = tensors.map((t) => (safe ? t.toArray() : t.data()) as Float32Array);
  change(values);
  const finite = values.every(allFinite);
  if (safe) {
    if (!finite) throw new MergeError(label, adapter, 'the merged weights hold NaN or infinite values; the adapter seems to be broken');
    tensors.forEach((t, i) => t.data().set(values[i]!));
  } else if (!finite) {
    warn(nonFiniteMergeWarning(label, adapter));
  }
}

function setEntryGrad(container: AdapterContainer, key: string, flag: boolean): void {
  if (container instanceof ParameterDict) {
    const t = container.get(key);
    if (t !== undefined && t.dtype === 'float32') t.requiresGrad = flag;
  } else {
    container.get(key)?.requiresGrad(flag);
  }
}

export abstract class BaseTunerLayer extends Module {
  /** Child containers keyed by adapter name that hold trainable adapter weights. */
  protected abstract readonly adapterLayerNames: readonly string[];
  /** Child containers keyed by adapter name that adapter files leave out (AdaLoRA's ranknum). */
  readonly unsavedContainerNames: readonly string[] = [];
  /** Adapters merged into the base weights, in merge order. */
  readonly mergedAdapters: string[] = [];
  /**
   * Per-sample adapter names for the next forward calls (`"__base__"`: no adapter), set by the tuner's
   * withAdapterNames scope; a forward option overrides it.
   */
  batchAdapterNames: readonly string[] | null = null;
  private active: string[];
  private disabled = false;

  constructor(
    adapterName: string,
    /** Dotted name of the wrapped module in the model, used in messages ('' when the layer stands alone). */
    readonly key: string,
  ) {
    super();
    this.active = [adapterName];
  }

  /** The wrapped module, unwrapping nested adapter layers. */
  getBaseLayer(): Module {
    let m = this.child('base_layer');
    while (m instanceof BaseTunerLayer) m = m.child('base_layer');
    return m;
  }

  get activeAdapters(): readonly string[] {
    return this.active;
  }

  get merged(): boolean {
    return this.mergedAdapters.length > 0;
  }

  get disableAdapters(): boolean {
    return this.disabled;
  }

  /** The layer's name in messages. */
  protected get label(): string {
    return this.key === '' ? this.typeName : this.key;
  }

  protected containers(): AdapterContainer[] {
    return this.adapterLayerNames.map((n) => this.child<AdapterContainer>(n));
  }

  /** Every adapter this layer holds, sorted. */
  availableAdapters(): string[] {
    const names = new Set<string>();
    for (const c of this.containers()) for (const k of c.keys()) names.add(k);
    return [...names].sort();
  }

  /** Activates `names`; their weights become trainable unless inferenceMode, every other adapter's are frozen. */
  setAdapter(names: string | readonly string[], options: { inferenceMode?: boolean } = {}): void {
    const list = typeof names === 'string' ? [names] : [...names];
    for (const c of this.containers()) {
      for (const k of c.keys()) setEntryGrad(c, k, list.includes(k) && !(options.inferenceMode ?? false));
    }
    this.active = list;
  }

  /** Disabling freezes every adapter weight and makes forward return the base output. */
  enableAdapters(enabled: boolean): void {
    if (enabled) {
      this.setAdapter(this.active);
      this.disabled = false;
    } else {
      for (const c of this.containers()) for (const k of c.keys()) setEntryGrad(c, k, false);
      this.disabled = true;
    }
  }

  setRequiresGrad(names: string | readonly string[], flag = true): void {
    const list = typeof names === 'string' ? [names] : names;
    for (const c of this.containers()) for (const k of c.keys()) if (list.includes(k)) setEntryGrad(c, k, flag);
  }

  /** Removes the adapter's entries; if it was active, the remaining active ones (or the first other adapter) take over. */
  deleteAdapter(name: string): void {
    for (const c of this.containers()) if (c.keys().includes(name)) c.delete(name);
    this.forgetAdapter(name);
    if (!this.active.includes(name)) return;
    const rest = this.active.filter((a) => a !== name);
    if (rest.length > 0) {
      this.setAdapter(rest);
      return;
    }
    const remaining = this.availableAdapters();
    if (remaining.length > 0) warn(`Adapter ${name} was active and is now deleted; setting the active adapter to ${remaining[0]}.`);
    this.setAdapter(remaining.slice(0, 1));
  }

  /** Drops per-adapter settings kept outside the containers. */
  protected abstract forgetAdapter(name: string): void;

  abstract merge(options?: MergeOptions): void;

  /** Takes the merged adapters out of the base weights again, last merged first; warns when none is merged. */
  unmerge(): void {
    if (!this.merged) {
      warn(`${this.label}: already unmerged, nothing to do.`);
      return;
    }
    // Each adapter in its own scope: the deltas and rotations built to undo it are freed.
    while (this.mergedAdapters.length > 0) {
      const adapter = this.mergedAdapters.pop()!;
      scope(() => this.unmergeAdapter(adapter));
    }
  }

  /**
   * The merge loop of layers that rewrite one float32 base weight: for each requested adapter this layer holds,
   * `change` gets the weight's values as mergeChecked hands them out, inside a scope that frees what it builds.
   */
  protected mergeIntoWeight(weight: Tensor, options: MergeOptions, change: (adapter: string, w: Float32Array) => void): void {
    for (const adapter of this.adaptersToMerge(options.adapterNames)) {
      if (!this.hasAdapter(adapter)) continue;
      if (weight.dtype !== 'float32') throw new MergeError(this.label, adapter, `the base weight is ${weight.dtype}; merging needs float32`);
      scope(() => mergeChecked(this.label, adapter, [weight], options.safeMerge ?? false, ([w]) => change(adapter, w!)));
      this.mergedAdapters.push(adapter);
    }
  }

  /** Whether this layer holds adapter `name` (in any of its adapter containers). */
  hasAdapter(name: string): boolean {
    return this.containers().some((c) => c.keys().includes(name));
  }

  /** Takes one merged adapter out of the base weights. */
  protected abstract unmergeAdapter(adapter: string): void;

  /**
   * What forward returns while the adapters are disabled (unmerging first) or merged: the base output; else null.
   * Layers of a method without mixed adapter batches name it as `method`: per-sample adapter names are refused then.
   */
  protected inactiveForward(x: Tensor, method?: string): Tensor | null {
    const base = this.child<Module & { forward(x: Tensor): Tensor }>('base_layer');
    if (this.disableAdapters) {
      if (this.merged) this.unmerge();
      return base.forward(x);
    }
    if (this.merged) return base.forward(x);
    if (method !== undefined && this.batchAdapterNames !== null) {
      throw new UnsupportedError(`${this.label}: ${method} does not support mixed adapter batches (adapterNames)`);
    }
    return null;
  }

  /** PEFT's check_adapters_to_merge: the requested (or active) adapters that are not merged yet. */
  protected adaptersToMerge(names: readonly string[] | undefined): string[] {
    if (names !== undefined && !Array.isArray(names)) {
      throw new AdapterError(`${this.label}: adapterNames must be a list of adapter names, got ${JSON.stringify(names)}`);
    }
    let list = [...(names ?? this.active)];
    if (this.merged) {
      list = list.filter((n) => !this.mergedAdapters.includes(n));
      if (list.length > 0) warn(`${this.label}: adapters ${this.mergedAdapters.join(',')} are already merged; now also merging ${list.join(',')}.`);
      else warn(`${this.label}: all adapters are already merged, nothing to do.`);
    }
    return list;
  }
}
