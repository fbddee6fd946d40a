// HRA layers (PEFT's hra/layer.py) on nn.Linear: per adapter one matrix `hra_u.<adapter>` [in, r] of reflection
// vectors whose orthogonal H (reflections.ts) multiplies the weight from the right, y = x·(W·H)ᵀ + b, computed as the
// base layer on x·Hᵀ. Several active adapters multiply in order, W·H₁·H₂. Merging turns W into W·H; unmerging
// multiplies by Hᵀ = H⁻¹ again. PEFT also adapts Conv2d, which our models do not use, and like PEFT we refuse GPT-2's
// Conv1D.
import { noGrad } from '../../../engine/autograd.js';
import { zeros } from '../../../engine/ops/creation.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ParameterDict } from '../../../nn/containers.js';
import type { Linear } from '../../../nn/linear.js';
import { warn } from '../../utils/warnings.js';
import { BaseTunerLayer, type MergeOptions } from '../base-tuner-layer.js';
import { kaimingUniform } from '../lycoris-utils.js';
import type { HRAConfig } from './config.js';
import { applyReflections } from './reflections.js';

/** The config fields a layer reads when an adapter is added. */
export type HRALayerConfig = Pick<HRAConfig, 'r' | 'applyGS' | 'initWeights' | 'inferenceMode'>;

/**
 * PEFT's symmetric init: kaiming-uniform columns, each one twice in a row, so that every reflection is undone by
 * the next and H starts as the identity.
 */
function pairedColumns(inFeatures: number, r: number, generator?: Generator): Tensor {
  const half = kaimingUniform([inFeatures, r / 2], generator).data();
  const u = zeros([inFeatures, r]);
  const d = u.data();
  for (let i = 0; i < inFeatures; i++) {
    for (let j = 0; j < r; j++) d[i * r + j] = half[i * (r / 2) + Math.floor(j / 2)]!;
  }
  return u;
}

export class HRALayer extends BaseTunerLayer {
  protected readonly adapterLayerNames = ['hra_u'] as const;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Per adapter: whether its vectors are orthonormalised (apply_GS). */
  private readonly gramSchmidt = new Map<string, boolean>();

  constructor(base: Linear, adapterName: string, config: HRALayerConfig, options: { key?: string; generator?: Generator } = {}) {
    super(adapterName, options.key ?? '');
    this.registerModule('base_layer', base);
    this.registerModule('hra_u', new ParameterDict());
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.updateLayer(adapterName, config, options.generator);
  }

  get hraU(): ParameterDict {
    return this.child<ParameterDict>('hra_u');
  }

  override hasAdapter(name: string): boolean {
    return this.hraU.has(name);
  }

  /** Adds an adapter (PEFT's update_layer): paired vectors with init_weights and an even r, else kaiming-uniform ones. */
  updateLayer(adapterName: string, config: HRALayerConfig, generator?: Generator): void {
    const { r } = config;
    if (config.initWeights && r % 2 !== 0) warn(`${this.label}: the symmetric initialization can not be performed when r is odd (r=${r}); the HRA vectors are drawn at random.`);
    const symmetric = config.initWeights && r % 2 === 0;
    this.hraU.set(adapterName, symmetric ? pairedColumns(this.inFeatures, r, generator) : kaimingUniform([this.inFeatures, r], generator));
    this.gramSchmidt.set(adapterName, config.applyGS);
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    this.gramSchmidt.delete(name);
  }

  private get base(): Linear {
    return this.getBaseLayer() as Linear;
  }

  /** The base weight W [out, in] times the adapter's H, or its Hᵀ with `transposed`; null for an adapter it lacks. */
  private rotatedWeight(adapter: string, transposed: boolean): Tensor | null {
    const u = this.hraU.get(adapter);
    if (u === undefined) return null;
    return noGrad(() => applyReflections(this.base.weight, u, { gramSchmidt: this.gramSchmidt.get(adapter)!, transposed }));
  }

  merge(options: MergeOptions = {}): void {
    this.mergeIntoWeight(this.base.weight, options, (adapter, w) => w.set(this.rotatedWeight(adapter, false)!.data()));
  }

  protected unmergeAdapter(adapter: string): void {
    const rotated = this.rotatedWeight(adapter, true);
    if (rotated === null) return;
    this.base.weight.data().set(rotated.data());
    rotated.dispose();
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'HRA');
    if (inactive !== null) return inactive;
    // x·(H₁·H₂·…)ᵀ = x·…·H₂ᵀ·H₁ᵀ: the last active adapter's reflections come first.
    let rotated = x;
    for (const adapter of [...this.activeAdapters].reverse()) {
      const u = this.hraU.get(adapter);
      if (u !== undefined) rotated = applyReflections(rotated, u, { gramSchmidt: this.gramSchmidt.get(adapter)!, transposed: true });
    }
    return this.child<Linear>('base_layer').forward(rotated);
  }
}
