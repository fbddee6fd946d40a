// FourierFT layers (PEFT's fourierft/layer.py) on nn.Linear and GPT-2's Conv1D: y = base(x) + x·ΔWᵀ, where ΔW [out, in]
// is the scaled real part of the inverse 2-D DFT of a spectrum that is zero except for `fourierft_spectrum.<adapter>`
// [n_frequency] at positions drawn from random_loc_seed (never saved: drawn again whenever the adapter is added).
// Several active adapters add up. Merging adds ΔW to the base weight, unmerging subtracts it.
import { noGrad } from '../../../engine/autograd.js';
import { add } from '../../../engine/ops/binary.js';
import { randn } from '../../../engine/ops/creation.js';
import { linear } from '../../../engine/ops/linear.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ParameterDict } from '../../../nn/containers.js';
import type { Conv1D, Linear } from '../../../nn/linear.js';
import { AdapterError } from '../../errors.js';
import { DeltaWeightLayer } from '../delta-weight-layer.js';
import type { FourierFTConfig } from './config.js';
import { inverseDftDelta, spectralPositions, type SpectralPositions } from './spectrum.js';

/** The config fields a layer reads when an adapter is added. */
export type FourierFTLayerConfig = Pick<FourierFTConfig, 'scaling' | 'randomLocSeed' | 'initWeights' | 'inferenceMode'>;

export class FourierFTLayer extends DeltaWeightLayer {
  protected readonly adapterLayerNames = ['fourierft_spectrum'] as const;
  private readonly spectra = new Map<string, { positions: SpectralPositions; scaling: number }>();

  constructor(base: Linear | Conv1D, adapterName: string, nFrequency: number, config: FourierFTLayerConfig, options: { key?: string; generator?: Generator } = {}) {
    super(base, adapterName, options.key ?? '');
    this.registerModule('fourierft_spectrum', new ParameterDict());
    this.updateLayer(adapterName, nFrequency, config, options.generator);
  }

  get fourierftSpectrum(): ParameterDict {
    return this.child('fourierft_spectrum');
  }

  override hasAdapter(name: string): boolean {
    return this.fourierftSpectrum.has(name);
  }

  /** Adds an adapter (PEFT's update_layer): its positions from random_loc_seed, its spectrum N(0, 1), or zero with init_weights. */
  updateLayer(adapterName: string, nFrequency: number, config: FourierFTLayerConfig, generator?: Generator): void {
    const size = this.inFeatures * this.outFeatures;
    if (!Number.isInteger(nFrequency) || nFrequency <= 0) throw new AdapterError(`${this.label}: n_frequency must be a positive integer, got ${nFrequency}`);
    if (nFrequency > size) {
      throw new AdapterError(`${this.label}: n_frequency must be at most in_features · out_features (${this.inFeatures} · ${this.outFeatures} = ${size}), got ${nFrequency}`);
    }
    const positions = spectralPositions(config.randomLocSeed, this.outFeatures, this.inFeatures, nFrequency);
    this.spectra.set(adapterName, { positions, scaling: config.scaling });
    const spectrum = this.fourierftSpectrum.set(adapterName, randn([nFrequency], { generator }));
    if (config.initWeights) spectrum.data().fill(0);
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    this.spectra.delete(name);
  }

  /** The adapter's spectral positions (rows and columns of the [out, in] spectrum). */
  positions(adapter: string): SpectralPositions {
    return this.settings(adapter).positions;
  }

  private settings(adapter: string): { positions: SpectralPositions; scaling: number } {
    const s = this.spectra.get(adapter);
    if (s === undefined) throw new AdapterError(`${this.label}: adapter '${adapter}' has no FourierFT spectrum`);
    return s;
  }

  /** ΔW [out, in], differentiable in the spectrum. */
  private delta(adapter: string): Tensor {
    const { positions, scaling } = this.settings(adapter);
    return inverseDftDelta(this.fourierftSpectrum.get(adapter)!, positions, this.outFeatures, this.inFeatures, scaling);
  }

  /** ΔW in the base weight's layout ([out, in], or [in, out] for Conv1D). */
  getDeltaWeight(adapter: string): Tensor {
    return noGrad(() => this.inWeightLayout(this.delta(adapter)));
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'FourierFT');
    if (inactive !== null) return inactive;
    let result = this.child<Linear | Conv1D>('base_layer').forward(x);
    for (const adapter of this.activeAdapters) {
      if (!this.hasAdapter(adapter)) continue;
      result = add(result, linear(x, this.delta(adapter)));
    }
    return result;
  }
}
