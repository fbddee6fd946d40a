// VB-LoRA layers (PEFT's vblora/layer.py) on nn.Linear and GPT-2's Conv1D: y = base(x) + B·(A·drop(x)), where every
// length-L sub-vector of A [r, in] and B [out, r] mixes the topk bank vectors with the largest logits, weighted by the
// softmax of those logits. `vblora_logits_A.<adapter>` [r, in/L, N] and `vblora_logits_B.<adapter>` [out/L, r, N] are
// the layer's own; the bank [N, L] belongs to the tuner and is shared by all its layers. Several active adapters add
// up. Merging adds B·A to the base weight, unmerging subtracts it.
import { noGrad } from '../../../engine/autograd.js';
import { add, mul } from '../../../engine/ops/binary.js';
import { randn } from '../../../engine/ops/creation.js';
import { embedding } from '../../../engine/ops/indexing.js';
import { linear } from '../../../engine/ops/linear.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { sum } from '../../../engine/ops/reduce.js';
import { softmax } from '../../../engine/ops/softmax.js';
import { reshape, transpose, unsqueeze } from '../../../engine/ops/view.js';
import type { Generator } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';
import { ModuleDict, ParameterDict } from '../../../nn/containers.js';
import { Dropout } from '../../../nn/dropout.js';
import { Identity } from '../../../nn/identity.js';
import type { Conv1D, Linear } from '../../../nn/linear.js';
import { AdapterError } from '../../errors.js';
import type { AdapterContainer } from '../base-tuner-layer.js';
import { DeltaWeightLayer } from '../delta-weight-layer.js';
import type { VBLoRAConfig } from './config.js';
import { torchTopk } from './torch-topk.js';

/** The config fields a layer reads when an adapter is added. */
export type VBLoRALayerConfig = Pick<VBLoRAConfig, 'r' | 'topk' | 'vectorLength' | 'numVectors' | 'vbloraDropout' | 'initLogitsStd' | 'inferenceMode'>;

/**
 * PEFT's _get_low_rank_matrix: for logits [..., N], the softmax-weighted sum of the topk bank rows [N, L] with the
 * largest logits (chosen as CPU torch chooses among ties), [..., L]. The selection carries no gradient; the weights
 * and the bank rows do.
 */
export function composeFromBank(logits: Tensor, bank: Tensor, k: number): Tensor {
  const { values, indices } = torchTopk(logits, k);
  const weights = softmax(values, -1);
  return sum(mul(unsqueeze(weights, -1), embedding(bank, indices)), { axis: -2 });
}

/** PEFT's check that `vectorLength` divides a layer's in and out features (the sub-vectors tile A and B). */
export function checkVectorLength(label: string, inFeatures: number, outFeatures: number, vectorLength: number): void {
  for (const [name, features] of [['in_features', inFeatures], ['out_features', outFeatures]] as const) {
    if (features % vectorLength !== 0) throw new AdapterError(`${label}: ${name} ${features} must be divisible by vector_length ${vectorLength}`);
  }
}

export class VBLoRALayer extends DeltaWeightLayer {
  protected readonly adapterLayerNames = ['vblora_logits_A', 'vblora_logits_B'] as const;
  private readonly topks = new Map<string, number>();

  constructor(
    base: Linear | Conv1D,
    adapterName: string,
    /** The tuner's vector banks by adapter name; every layer reads them, none owns them. */
    private readonly vectorBank: ParameterDict,
    config: VBLoRALayerConfig,
    options: { key?: string; generator?: Generator } = {},
  ) {
    super(base, adapterName, options.key ?? '');
    this.registerModule('vblora_dropout', new ModuleDict<Dropout | Identity>());
    this.registerModule('vblora_logits_A', new ParameterDict());
    this.registerModule('vblora_logits_B', new ParameterDict());
    this.updateLayer(adapterName, config, options.generator);
  }

  get vbloraDropout(): ModuleDict<Dropout | Identity> {
    return this.child('vblora_dropout');
  }

  get vbloraLogitsA(): ParameterDict {
    return this.child('vblora_logits_A');
  }

  get vbloraLogitsB(): ParameterDict {
    return this.child('vblora_logits_B');
  }

  override hasAdapter(name: string): boolean {
    return this.vbloraLogitsA.has(name);
  }

  /** As in PEFT, the shared bank is one of the layer's adapter weights: switching, disabling and deleting reach it. */
  protected override containers(): AdapterContainer[] {
    return [...super.containers(), this.vectorBank];
  }

  /** Adds an adapter (PEFT's update_layer): logits A and B drawn from N(0, init_logits_std²). */
  updateLayer(adapterName: string, config: VBLoRALayerConfig, generator?: Generator): void {
    const { r, vectorLength: L, numVectors: N } = config;
    checkVectorLength(this.label, this.inFeatures, this.outFeatures, L);
    if (!this.vectorBank.has(adapterName)) throw new AdapterError(`${this.label}: the tuner has no vblora_vector_bank for adapter '${adapterName}'`);
    this.topks.set(adapterName, config.topk);
    this.vbloraDropout.set(adapterName, config.vbloraDropout > 0 ? new Dropout(config.vbloraDropout) : new Identity());
    const std = config.initLogitsStd;
    this.vbloraLogitsA.set(adapterName, randn([r, this.inFeatures / L, N], { generator, std }));
    this.vbloraLogitsB.set(adapterName, randn([this.outFeatures / L, r, N], { generator, std }));
    this.setAdapter(this.activeAdapters, { inferenceMode: config.inferenceMode });
  }

  protected forgetAdapter(name: string): void {
    this.topks.delete(name);
  }

  /**
   * PEFT's _get_lora_matrices: A [r, in] and B [out, r] composed from the bank. Logits restored from top-k weights
   * hold -inf and cannot be trained, so training mode refuses them as PEFT does.
   */
  loraMatrices(adapter: string): { A: Tensor; B: Tensor } {
    const logitsA = this.vbloraLogitsA.get(adapter)!;
    const logitsB = this.vbloraLogitsB.get(adapter)!;
    const bank = this.vectorBank.get(adapter);
    if (bank === undefined) throw new AdapterError(`${this.label}: adapter '${adapter}' has no vblora_vector_bank`);
    if (this.training && logitsA.data().subarray(0, logitsA.shape[2]!).some((v) => v === Infinity || v === -Infinity)) {
      throw new AdapterError(
        `${this.label}: adapter '${adapter}' has infinite VB-LoRA logits, as an adapter saved with save_only_topk_weights has; such adapters are for inference and merging only, not for training`,
      );
    }
    const k = this.topks.get(adapter)!;
    const r = logitsA.shape[0]!;
    const A = reshape(composeFromBank(logitsA, bank, k), [r, this.inFeatures]);
    const B = reshape(transpose(composeFromBank(logitsB, bank, k), 1, 2), [this.outFeatures, r]);
    return { A, B };
  }

  /** B·A in the base weight's layout ([out, in], or [in, out] for Conv1D). */
  getDeltaWeight(adapter: string): Tensor {
    return noGrad(() => {
      const { A, B } = this.loraMatrices(adapter);
      const delta = matmul(B, A);
      return this.inWeightLayout(delta);
    });
  }

  forward(x: Tensor): Tensor {
    const inactive = this.inactiveForward(x, 'VB-LoRA');
    if (inactive !== null) return inactive;
    let result = this.child<Linear | Conv1D>('base_layer').forward(x);
    for (const adapter of this.activeAdapters) {
      if (!this.hasAdapter(adapter)) continue;
      const { A, B } = this.loraMatrices(adapter);
      result = add(result, linear(linear(this.vbloraDropout.get(adapter)!.forward(x), A), B));
    }
    return result;
  }
}
