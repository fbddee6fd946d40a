// LoHa on nn.Linear (PEFT's loha/layer.py Linear): per adapter four factors `hada_w1_a` [out, r], `hada_w1_b`
// [r, in], `hada_w2_a` [out, r], `hada_w2_b` [r, in], and ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b) · alpha / r. PEFT's
// `hada_t1` / `hada_t2` exist only for convolutions.
import { matmul } from '../../../engine/ops/matmul.js';
import { mul } from '../../../engine/ops/binary.js';
import { zeros } from '../../../engine/ops/creation.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { Linear } from '../../../nn/linear.js';
import { kaimingUniform, LycorisLayer, type LycorisLayerConfig, type LycorisLayerSettings } from '../lycoris-utils.js';
import type { LoHaConfig } from './config.js';

const LOHA_FACTORS = ['hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b'] as const;

/** The config fields a LoHa layer reads when an adapter is added. */
export type LoHaLayerConfig = LycorisLayerConfig & Pick<LoHaConfig, 'initWeights'>;

export class LoHaLayer extends LycorisLayer {
  protected readonly adapterLayerNames = LOHA_FACTORS;

  constructor(base: Linear, adapterName: string, config: LoHaLayerConfig, settings: LycorisLayerSettings, key = '') {
    super(base, adapterName, key, LOHA_FACTORS);
    this.updateLayer(adapterName, config, settings);
  }

  /** init_weights true: w2_b = 0, so ΔW starts at zero; the other factors (all of them with false) kaiming-uniform. */
  protected createFactors(adapterName: string, r: number, config: LoHaLayerConfig, generator?: Generator): void {
    const [out, inF] = [this.outFeatures, this.inFeatures];
    this.setFactor('hada_w1_a', adapterName, kaimingUniform([out, r], generator));
    this.setFactor('hada_w1_b', adapterName, kaimingUniform([r, inF], generator));
    this.setFactor('hada_w2_a', adapterName, kaimingUniform([out, r], generator));
    this.setFactor('hada_w2_b', adapterName, config.initWeights ? zeros([r, inF]) : kaimingUniform([r, inF], generator));
  }

  /** The adapter's factors. */
  factors(adapter: string): Record<(typeof LOHA_FACTORS)[number], Tensor> {
    return Object.fromEntries(LOHA_FACTORS.map((n) => [n, this.factor(n, adapter)!])) as Record<(typeof LOHA_FACTORS)[number], Tensor>;
  }

  deltaWeight(adapter: string): Tensor {
    const f = this.factors(adapter);
    return mul(mul(matmul(f.hada_w1_a, f.hada_w1_b), matmul(f.hada_w2_a, f.hada_w2_b)), this.scaling.get(adapter)!);
  }

  protected rescalesRankDropout(): boolean {
    return true;
  }
}
