// VeRA layers (PEFT's vera/layer.py) on nn.Linear and GPT-2's Conv1D: y = base(x) + λ_b ⊙ (B_s · (λ_d ⊙ (A_s · drop(x)))),
// where A_s = vera_A[:, :in] and B_s = vera_B[:out, :] are slices of the projections the tuner shares between all
// layers (sized for the largest targeted layer), and `vera_lambda_b.<adapter>` [out] and `vera_lambda_d.<adapter>`
// [r] are the layer's own trainable vectors. Several active adapters add up. Merging adds the same product to the
// base weight, unmerging subtracts it.
import { noGrad } from '../../../engine/autograd.js';
import { add, mul } from '../../../engine/ops/binary.js';
import { ones, randn } from '../../../engine/ops/creation.js';
import { linear } from '../../../engine/ops/linear.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { slice, unsqueeze } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { BufferDict, ModuleDict, ParameterDict } from '../../../nn/containers.js';
import { Dropout } from '../../../nn/dropout.js';
import { Identity } from '../../../nn/identity.js';
import type { Conv1D, Linear } from '../../../nn/linear.js';
import { AdapterError } from '../../errors.js';
import { DeltaWeightLayer } from '../delta-weight-layer.js';
import type { VeraConfig } from './config.js';

/** The config fields a layer reads when an adapter is added. */
export type VeraLayerConfig = Pick<VeraConfig, 'r' | 'veraDropout' | 'initWeights' | 'dInitial' | 'inferenceMode'>;

/** The tuner's projections by adapter name; every layer reads them, none owns them. */
export interface SharedProjections {
  veraA: BufferDict;
  veraB: BufferDict;
}

/** PEFT's checks when a further adapter of `method` (VeRA, RandLora) reuses the first adapter's projections. */
export function checkProjectionSize(name: string, size: number, needed: number, lowerRank: boolean, method = 'VeRA'): void {
  if (size >= needed) return;
  const cause = lowerRank
    ? `an additional ${method} adapter with a lower rank was added after the first one; loading the adapters in reverse order may solve this`
    : `an additional ${method} adapter was added after the first one with incompatible shapes`;
  throw new AdapterError(`${name} has a size of ${size} but ${needed} or greater is required; this probably happened because ${cause}.`);
}

export class VeraLayer extends DeltaWeightLayer {
  protected readonly adapterLayerNames = ['vera_lambda_b', 'vera_lambda_d'] as const;
  private readonly ranks = new Map<string, number>();

  constructor(
    base: Linear | Conv1D,
    adapterName: string,
    private readonly projections: SharedProjections,
    config: VeraLayerConfig,
    options: { key?: string; generator?: Generator } = {},
  ) {
    super(base, adapterName, options.key ?? '');
    this.registerModule('vera_dropout', new ModuleDict<Dropout | Identity>());
    this.registerModule('vera_lambda_b', new ParameterDict());
    this.registerModule('vera_lambda_d', new ParameterDict());
    this.updateLayer(adapterName, config, options.generator);
  }

  get veraDropout(): ModuleDict<Dropout | Identity> {
    return this.child('vera_dropout');
  }

  get veraLambdaB(): ParameterDict {
    return this.child('vera_lambda_b');
  }

  get veraLambdaD(): ParameterDict {
    return this.child('vera_lambda_d');
  }

  override hasAdapter(name: string): boolean {
    return this.veraLambdaD.has(name);
  }

  /**
   * Adds an adapter (PEFT's update_layer): lambda_b = 0 and lambda_d = d_initial with init_weights, else ones and
   * N(0, 1). An adapter without projections of its own shares the first adapter's, which must be large enough for
   * this layer and rank (checked on every layer, where PEFT checks only the first one the adapter reaches).
   */
  updateLayer(adapterName: string, config: VeraLayerConfig, generator?: Generator): void {
    const { r } = config;
    const { veraA, veraB } = this.projections;
    const owner = veraA.has(adapterName) ? adapterName : veraA.keys()[0];
    if (owner === undefined) throw new AdapterError(`${this.label}: the shared vera_A and vera_B projections are empty; VeRA adapters share the first adapter's projections`);
    const A = veraA.get(owner)!;
    const B = veraB.get(owner)!;
    checkProjectionSize('vera_A', A.shape[1]!, this.inFeatures, false);
    checkProjectionSize('vera_B', B.shape[0]!, this.outFeatures, false);
    checkProjectionSize('vera_A', A.shape[0]!, r, true);
    checkProjectionSize('vera_B', B.shape[1]!, r, true);
    veraA.set(adapterName, A);
    veraB.set(adapterName, B);
    this.ranks.set(adapterName, r);
    this.veraDropout.set(adapterName, config.veraDropout > 0 ? new Dropout(config.veraDropout) : new Identity());
    const lambdaB = this.veraLambdaB.set(adapterName, ones([this.outFeatures]));
    const lambdaD = this.veraLambdaD.set(adapterName, randn([r], { generator }));
    if (config.initWeights) {
      lambdaD.data().fill(config.dInitial);
      lambdaB.data().fill(0);
    }
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    this.ranks.delete(name);
  }

  /** The adapter's slices of the shared projections: A_s [r, in] and B_s [out, r]. */
  private slicedProjections(adapter: string): { A: Tensor; B: Tensor } {
    const A = this.projections.veraA.get(adapter);
    const B = this.projections.veraB.get(adapter);
    if (A === undefined || B === undefined) throw new AdapterError(`${this.label}: adapter '${adapter}' has no vera_A / vera_B projections`);
    const r = this.ranks.get(adapter)!;
    if (A.shape[0] !== r) {
      throw new AdapterError(`${this.label}: adapter '${adapter}' has r=${r} but the shared projections it uses have rank ${A.shape[0]}; VeRA adapters of one model need the same r`);
    }
    return { A: slice(A, 1, 0, this.inFeatures), B: slice(B, 0, 0, this.outFeatures) };
  }

  /** (λ_b ⊙ B_s)·(λ_d ⊙ A_s) in the base weight's layout ([out, in], or [in, out] for Conv1D). */
  getDeltaWeight(adapter: string): Tensor {
    return noGrad(() => {
      const { A, B } = this.slicedProjections(adapter);
      const left = mul(B, unsqueeze(this.veraLambdaB.get(adapter)!, 1));
      const right = mul(A, unsqueeze(this.veraLambdaD.get(adapter)!, 1));
      const delta = matmul(left, right);
      return this.inWeightLayout(delta);
    });
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'VeRA');
    if (inactive !== null) return inactive;
    let result = this.child<Linear | Conv1D>('base_layer').forward(x);
    for (const adapter of this.activeAdapters) {
      if (!this.hasAdapter(adapter)) continue;
      const { A, B } = this.slicedProjections(adapter);
      const h = mul(linear(this.veraDropout.get(adapter)!.forward(x), A), this.veraLambdaD.get(adapter)!);
      result = add(result, mul(linear(h, B), this.veraLambdaB.get(adapter)!));
    }
    return result;
  }
}
