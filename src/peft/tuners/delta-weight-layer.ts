// Adapter layers on nn.Linear or GPT-2's Conv1D whose adapters each add a product of small matrices to the base weight
// (VeRA, VB-LoRA): the wrapped layer's sizes and weight layout, and merging / unmerging through getDeltaWeight.
import { contiguous, transpose } from '../../engine/ops/view.js';
import type { Tensor } from '../../engine/tensor.js';
import { Conv1D, type Linear } from '../../nn/linear.js';
import { BaseTunerLayer, type MergeOptions } from './base-tuner-layer.js';

/** w += sign · delta elementwise; `delta` is disposed. */
function addDeltaInto(w: Float32Array, delta: Tensor, sign: 1 | -1): void {
  const d = delta.data();
  for (let i = 0; i < w.length; i++) w[i] = w[i]! + sign * d[i]!;
  delta.dispose();
}

export abstract class DeltaWeightLayer extends BaseTunerLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The base weight is stored [in, out] (Conv1D, fan_in_fan_out). */
  readonly fanInFanOut: boolean;

  constructor(base: Linear | Conv1D, adapterName: string, key: string) {
    super(adapterName, key);
    this.registerModule('base_layer', base);
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.fanInFanOut = base instanceof Conv1D;
  }

  abstract override hasAdapter(name: string): boolean;

  /** The adapter's delta in the base weight's layout ([out, in], or [in, out] for Conv1D), as a fresh tensor. */
  abstract getDeltaWeight(adapter: string): Tensor;

  protected get base(): Linear | Conv1D {
    return this.getBaseLayer() as Linear | Conv1D;
  }

  /** An [out, in] delta in the base weight's layout. */
  protected inWeightLayout(delta: Tensor): Tensor {
    return this.fanInFanOut ? contiguous(transpose(delta)) : delta;
  }

  merge(options: MergeOptions = {}): void {
    this.mergeIntoWeight(this.base.weight, options, (adapter, w) => addDeltaInto(w, this.getDeltaWeight(adapter), 1));
  }

  protected unmergeAdapter(adapter: string): void {
    if (this.hasAdapter(adapter)) addDeltaInto(this.base.weight.data() as Float32Array, this.getDeltaWeight(adapter), -1);
  }
}
