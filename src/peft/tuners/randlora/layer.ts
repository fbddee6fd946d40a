// RandLoRA layers (PEFT's randlora/layer.py) on nn.Linear and GPT-2's Conv1D. The tuner shares two frozen bases,
// randlora_A [r, 1, ·] and randlora_B [·, ·, r]; a layer with min_dim = min(in, out), max_dim = max(in, out) and
// num_bases = ceil(min_dim / r) slices A_s = A[:, :, :min_dim] and B_s = B[:max_dim, :num_bases, :] and scales A_s
// with its trainable `randlora_lambda.<adapter>` [r, num_bases] and `randlora_gamma.<adapter>` [num_bases, min_dim]:
//   S = (λ[:, :, None] · A_s · γ[None]) flattened to [r·num_bases, min_dim],  T = B_s flattened to [max_dim, num_bases·r].
// The update applies S on the smaller side: Δ = T·S when in ≤ out, else Sᵀ·Tᵀ; y = base(x) + Δ·drop(x) · alpha / r.
// The layers hold the tuner's bases as their own children too, so that each layer's state lists them as PEFT's does.
import { noGrad } from '../../../engine/autograd.js';
import { add, mul } from '../../../engine/ops/binary.js';
import { full, randn } from '../../../engine/ops/creation.js';
import { linear } from '../../../engine/ops/linear.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { reshape, slice, transpose, unsqueeze } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { BufferDict, ModuleDict, ParameterDict } from '../../../nn/containers.js';
import { Dropout } from '../../../nn/dropout.js';
import { Identity } from '../../../nn/identity.js';
import type { Conv1D, Linear } from '../../../nn/linear.js';
import { AdapterError } from '../../errors.js';
import { DeltaWeightLayer } from '../delta-weight-layer.js';
import { checkProjectionSize } from '../vera/layer.js';
import { numBases } from './bases.js';
import type { RandLoraConfig } from './config.js';

/** The config fields a layer reads when an adapter is added. */
export type RandLoraLayerConfig = Pick<RandLoraConfig, 'r' | 'randloraAlpha' | 'randloraDropout' | 'initWeights' | 'inferenceMode'>;

/** The tuner's bases by adapter name; every layer reads them, none owns them. */
export interface SharedBases {
  randloraA: BufferDict;
  randloraB: BufferDict;
}

export class RandLoraLayer extends DeltaWeightLayer {
  protected readonly adapterLayerNames = ['randlora_lambda', 'randlora_gamma'] as const;
  private readonly scalings = new Map<string, number>();

  constructor(
    base: Linear | Conv1D,
    adapterName: string,
    private readonly bases: SharedBases,
    config: RandLoraLayerConfig,
    options: { key?: string; generator?: Generator } = {},
  ) {
    super(base, adapterName, options.key ?? '');
    this.registerModule('randlora_dropout', new ModuleDict<Dropout | Identity>());
    this.registerModule('randlora_lambda', new ParameterDict());
    this.registerModule('randlora_gamma', new ParameterDict());
    this.registerModule('randlora_A', bases.randloraA);
    this.registerModule('randlora_B', bases.randloraB);
    this.updateLayer(adapterName, config, options.generator);
  }

  get randloraDropout(): ModuleDict<Dropout | Identity> {
    return this.child('randlora_dropout');
  }

  get randloraLambda(): ParameterDict {
    return this.child('randlora_lambda');
  }

  get randloraGamma(): ParameterDict {
    return this.child('randlora_gamma');
  }

  private get minDim(): number {
    return Math.min(this.inFeatures, this.outFeatures);
  }

  private get maxDim(): number {
    return Math.max(this.inFeatures, this.outFeatures);
  }

  override hasAdapter(name: string): boolean {
    return this.randloraLambda.has(name);
  }

  /**
   * Adds an adapter (PEFT's update_layer): lambda = 0 and gamma = 1 / min_dim with init_weights, else lambda N(0, 1)
   * and gamma 1 / max_dim. An adapter without bases of its own shares the first adapter's, which must be large
   * enough for this layer and rank.
   */
  updateLayer(adapterName: string, config: RandLoraLayerConfig, generator?: Generator): void {
    const { r } = config;
    const { randloraA, randloraB } = this.bases;
    const owner = randloraA.has(adapterName) ? adapterName : randloraA.keys()[0];
    if (owner === undefined) throw new AdapterError(`${this.label}: the shared randlora_A and randlora_B bases are empty; RandLora adapters share the first adapter's bases`);
    const A = randloraA.get(owner)!;
    const B = randloraB.get(owner)!;
    checkProjectionSize('randlora_B', B.shape[0]!, this.maxDim, false, 'RandLora');
    checkProjectionSize('randlora_A', A.shape[2]!, this.minDim, false, 'RandLora');
    checkProjectionSize('randlora_A', A.shape[0]!, r, true, 'RandLora');
    checkProjectionSize('randlora_B', B.shape[2]!, r, true, 'RandLora');
    randloraA.set(adapterName, A);
    randloraB.set(adapterName, B);
    this.scalings.set(adapterName, config.randloraAlpha / r);
    this.randloraDropout.set(adapterName, config.randloraDropout > 0 ? new Dropout(config.randloraDropout) : new Identity());
    const bases = numBases(this.minDim, r);
    const lambda = this.randloraLambda.set(adapterName, randn([r, bases], { generator }));
    const gamma = this.randloraGamma.set(adapterName, full([bases, this.minDim], Math.fround(1 / this.maxDim)));
    if (config.initWeights) {
      lambda.data().fill(0);
      gamma.data().fill(1 / Math.max(bases, this.minDim));
    }
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    this.scalings.delete(name);
  }

  /**
   * PEFT's get_scaled_bases: the two factors of the update as `linear` weights, `first` applied to the input and
   * `second` to its result (Δ = second · first, [out, in]).
   */
  private scaledBases(adapter: string): { first: Tensor; second: Tensor } {
    const A = this.bases.randloraA.get(adapter);
    const B = this.bases.randloraB.get(adapter);
    if (A === undefined || B === undefined) throw new AdapterError(`${this.label}: adapter '${adapter}' has no randlora_A / randlora_B bases`);
    const lambda = this.randloraLambda.get(adapter)!;
    const gamma = this.randloraGamma.get(adapter)!;
    const [r, bases] = lambda.shape as [number, number];
    if (A.shape[0] !== r) {
      throw new AdapterError(`${this.label}: adapter '${adapter}' has r=${r} but the shared bases it uses have rank ${A.shape[0]}; RandLora adapters of one model need the same r`);
    }
    const slicedA = slice(A, 2, 0, this.minDim);
    const slicedB = slice(slice(B, 0, 0, this.maxDim), 1, 0, bases);
    const scaled = mul(mul(unsqueeze(lambda, 2), slicedA), unsqueeze(gamma, 0));
    const S = reshape(scaled, [r * bases, this.minDim]);
    const T = reshape(slicedB, [this.maxDim, bases * r]);
    if (this.minDim === this.inFeatures) return { first: S, second: T };
    return { first: transpose(T), second: transpose(S) };
  }

  /** Δ · alpha / r in the base weight's layout ([out, in], or [in, out] for Conv1D). */
  getDeltaWeight(adapter: string): Tensor {
    return noGrad(() => {
      const { first, second } = this.scaledBases(adapter);
      return this.inWeightLayout(mul(matmul(second, first), this.scalings.get(adapter)!));
    });
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'RandLora');
    if (inactive !== null) return inactive;
    let result = this.child<Linear | Conv1D>('base_layer').forward(x);
    for (const adapter of this.activeAdapters) {
      if (!this.hasAdapter(adapter)) continue;
      const { first, second } = this.scaledBases(adapter);
      const h = linear(this.randloraDropout.get(adapter)!.forward(x), first);
      result = add(result, mul(linear(h, second), this.scalings.get(adapter)!));
    }
    return result;
  }
}
