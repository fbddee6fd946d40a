// LoKr on nn.Linear (PEFT's lokr/layer.py Linear). With out = a·b and in = c·d split by `factorization`,
// ΔW = w1 ⊗ w2 · alpha / r, where w1 [a, c] is `lokr_w1`, or `lokr_w1_a` [a, r] · `lokr_w1_b` [r, c] when
// decompose_both and r < max(a, c) / 2, and w2 [b, d] is `lokr_w2`, or `lokr_w2_a` [b, r] · `lokr_w2_b` [r, d]
// when r < max(b, d) / 2. PEFT's `lokr_t2` exists only for convolutions.
import { mul } from '../../../engine/ops/binary.js';
import { zeros } from '../../../engine/ops/creation.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { reshape } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { Linear } from '../../../nn/linear.js';
import { kaimingUniform, LycorisLayer, type LycorisLayerConfig, type LycorisLayerSettings } from '../lycoris-utils.js';
import type { LoKrConfig } from './config.js';

const LOKR_FACTORS = ['lokr_w1', 'lokr_w1_a', 'lokr_w1_b', 'lokr_w2', 'lokr_w2_a', 'lokr_w2_b'] as const;

/** The config fields a LoKr layer reads when an adapter is added. */
export type LoKrLayerConfig = LycorisLayerConfig & Pick<LoKrConfig, 'initWeights' | 'decomposeBoth' | 'decomposeFactor' | 'rankDropoutScale'>;

/**
 * PEFT's factorization: `dimension` as m·n with m <= n — (factor, dimension / factor) when a positive factor
 * divides it (kept in that order, as PEFT does), else the split reached by stepping m up through divisors while
 * it stays at most `factor` (any size for -1), i.e. near the square root.
 */
export function factorization(dimension: number, factor = -1): [number, number] {
  if (factor > 0 && dimension % factor === 0) return [factor, dimension / factor];
  const limit = factor === -1 ? dimension : factor;
  // PEFT compares with the sum of the first split (1 + dimension) only, which no later split exceeds.
  const length = 1 + dimension;
  let [m, n] = [1, dimension];
  while (m < n) {
    let next = m + 1;
    while (dimension % next !== 0) next++;
    const nextN = dimension / next;
    if (next + nextN > length || next > limit) break;
    [m, n] = [next, nextN];
  }
  return m > n ? [n, m] : [m, n];
}

/** The Kronecker product of a [p, q] and b [s, t], [p·s, q·t], built from broadcasting so that gradients flow. */
export function kron(a: Tensor, b: Tensor): Tensor {
  const [p, q] = a.shape as [number, number];
  const [s, t] = b.shape as [number, number];
  return reshape(mul(reshape(a, [p, 1, q, 1]), reshape(b, [1, s, 1, t])), [p * s, q * t]);
}

export class LoKrLayer extends LycorisLayer {
  protected readonly adapterLayerNames = LOKR_FACTORS;
  readonly rankDropoutScale = new Map<string, boolean>();

  constructor(base: Linear, adapterName: string, config: LoKrLayerConfig, settings: LycorisLayerSettings, key = '') {
    super(base, adapterName, key, LOKR_FACTORS);
    this.updateLayer(adapterName, config, settings);
  }

  /**
   * Which factors are whole follows PEFT's shape rules. init_weights true zeroes w1 (or w1_a), "lycoris" zeroes w2
   * (or w2_b), so ΔW starts at zero; every other factor (all of them with false) is kaiming-uniform.
   */
  protected createFactors(adapterName: string, r: number, config: LoKrLayerConfig, generator?: Generator): void {
    const [inM, inN] = factorization(this.inFeatures, config.decomposeFactor);
    const [outL, outK] = factorization(this.outFeatures, config.decomposeFactor);
    const init = config.initWeights;
    const draw = (shape: [number, number], zero: boolean): Tensor => (zero ? zeros(shape) : kaimingUniform(shape, generator));
    if (!(config.decomposeBoth && r < Math.max(outL, inM) / 2)) {
      this.setFactor('lokr_w1', adapterName, draw([outL, inM], init === true));
    } else {
      this.setFactor('lokr_w1_a', adapterName, draw([outL, r], init === true));
      this.setFactor('lokr_w1_b', adapterName, draw([r, inM], false));
    }
    if (!(r < Math.max(outK, inN) / 2)) {
      this.setFactor('lokr_w2', adapterName, draw([outK, inN], init === 'lycoris'));
    } else {
      this.setFactor('lokr_w2_a', adapterName, draw([outK, r], false));
      this.setFactor('lokr_w2_b', adapterName, draw([r, inN], init === 'lycoris'));
    }
    this.rankDropoutScale.set(adapterName, config.rankDropoutScale);
  }

  /** A Kronecker factor: whole, or the product of its two halves. */
  private kroneckerFactor(adapter: string, which: 'lokr_w1' | 'lokr_w2'): Tensor {
    return this.factor(which, adapter) ?? matmul(this.factor(`${which}_a`, adapter)!, this.factor(`${which}_b`, adapter)!);
  }

  deltaWeight(adapter: string): Tensor {
    return mul(kron(this.kroneckerFactor(adapter, 'lokr_w1'), this.kroneckerFactor(adapter, 'lokr_w2')), this.scaling.get(adapter)!);
  }

  protected rescalesRankDropout(adapter: string): boolean {
    return this.rankDropoutScale.get(adapter)!;
  }

  protected override forgetAdapter(name: string): void {
    super.forgetAdapter(name);
    this.rankDropoutScale.delete(name);
  }
}
