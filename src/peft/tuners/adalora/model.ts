// AdaLoraModel (PEFT's adalora/model.py): injects SVD-shaped adapters (SVDLinear) with init_r triplets into the
// targeted Linear / Conv1D layers, adds the orthogonality penalty of A and B to the loss, and — through
// updateAndAllocate, called after every optimizer step — prunes triplets to the shrinking rank budget. One adapter
// at most may be trainable; the others must be in inference mode.
import { add, div, mul, sub } from '../../../engine/ops/binary.js';
import { fromArray } from '../../../engine/ops/creation.js';
import { matmul } from '../../../engine/ops/matmul.js';
import { sum } from '../../../engine/ops/reduce.js';
import { sqrt } from '../../../engine/ops/unary.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { ModelOutput } from '../../../models/outputs.js';
import { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterError } from '../../errors.js';
import { TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { checkLoraOptionsSupported, checkSingleBiasAdapter } from '../lora/model.js';
import { AdaLoraConfig } from './config.js';
import { SVDLinear } from './layer.js';
import { RankAllocator } from './rank-allocator.js';

/** ‖M·Mᵀ - I‖_F for A [r, in] (`rows`), ‖Mᵀ·M - I‖_F for B [out, r]. */
function orthogonalityError(m: Tensor, rows: boolean): Tensor {
  const r = rows ? m.shape[0]! : m.shape[1]!;
  const eye = fromArray(Array.from({ length: r * r }, (_, i) => (i % (r + 1) === 0 ? 1 : 0)), [r, r]);
  const d = sub(rows ? matmul(m, m, { transB: true }) : matmul(m, m, { transA: true }), eye);
  return sqrt(sum(mul(d, d)));
}

export class AdaLoraModel<M extends Module = Module> extends BaseTuner<AdaLoraConfig, M> {
  protected readonly configClass = AdaLoraConfig;
  /** Prefix of the AdaLoRA parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING: LoRA's). */
  static readonly prefix = 'lora_';
  /** The adapter trained with rank allocation; null when every adapter is in inference mode. */
  readonly trainableAdapterName: string | null = null;
  readonly rankAllocator: RankAllocator | null = null;

  constructor(model: M, config: AdaLoraConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.injectAdapter(adapterName);
    if (config.inferenceMode) {
      for (const [name, t] of this.model.namedParameters()) if (name.endsWith(`.${adapterName}`) || name.includes(`.${adapterName}.`)) t.requiresGrad = false;
    } else {
      this.trainableAdapterName = adapterName;
      this.rankAllocator = new RankAllocator(this.model, config, adapterName);
    }
  }

  /** PEFT's _prepare_adapter_config with AdaLoRA's own default targets per model type. */
  protected override injectAdapter(adapterName: string): void {
    this.fillDefaultTargets(this.peftConfig.get(adapterName)!, TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING, 'AdaLoRA');
    super.injectAdapter(adapterName);
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof SVDLinear;
  }

  protected checkNewAdapterConfig(config: AdaLoraConfig): void {
    checkLoraOptionsSupported(config);
    checkSingleBiasAdapter(this.peftConfig.values());
    const trainable = [...this.peftConfig.values()].filter((c) => !c.inferenceMode).length;
    if (trainable > 1) {
      throw new AdapterError('AdaLoRA supports only 1 trainable adapter; set inferenceMode to true for every adapter except the one to train');
    }
  }

  protected checkTarget(_config: AdaLoraConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear, Conv1D], 'AdaLoRA supports Linear and Conv1D layers');
  }

  protected createAndReplace(config: AdaLoraConfig, adapterName: string, target: Module, key: string): void {
    const options = { r: config.initR, loraAlpha: config.loraAlpha, generator: this.options.generator, key };
    if (target instanceof SVDLinear) {
      target.updateLayer(adapterName, config, options);
      return;
    }
    const base = target as Linear | Conv1D;
    matchFanInFanOut(base, config, key);
    this.replaceModule(key, new SVDLinear(base, adapterName, config, options), adapterName);
  }

  /**
   * orth_reg_weight times the mean, over the trainable adapter's lora_A and lora_B, of ‖A·Aᵀ - I‖_F and
   * ‖Bᵀ·B - I‖_F (a graph, so that it trains A and B); null without a trainable adapter.
   */
  orthogonalRegularization(): Tensor | null {
    const adapter = this.trainableAdapterName;
    if (adapter === null) return null;
    let total: Tensor | null = null;
    let count = 0;
    for (const [name, p] of this.model.namedParameters()) {
      const isA = name.includes('lora_A');
      if (!(isA || name.includes('lora_B')) || !name.includes(adapter)) continue;
      count++;
      // An empty factor (rank 0) has a zero-sized product and adds nothing but its count.
      if (p.size === 0) continue;
      const err = orthogonalityError(p, isA);
      total = total === null ? err : add(total, err);
    }
    if (total === null) return null;
    return mul(div(total, count), this.peftConfig.get(adapter)!.orthRegWeight);
  }

  /** PEFT's forward: a loss in the output gets the orthogonal regularisation added. */
  withOrthogonalRegularization(output: ModelOutput): ModelOutput {
    if (output.loss === undefined) return output;
    const reg = this.orthogonalRegularization();
    return reg === null ? output : { ...output, loss: add(output.loss, reg) };
  }

  /**
   * PEFT's update_and_allocate: call after every optimizer step, before the gradients are zeroed. Before
   * total_step - tfinal it updates the sensitivities and prunes to the scheduled budget; at total_step - tfinal it
   * prunes to the final budget and records the result as the config's rank_pattern; afterwards it keeps the pruned
   * triplets at zero.
   */
  updateAndAllocate(globalStep: number): void {
    const adapter = this.trainableAdapterName;
    const allocator = this.rankAllocator;
    if (adapter === null || allocator === null) throw new AdapterError('updateAndAllocate needs a trainable AdaLoRA adapter (one not in inference mode)');
    const config = this.peftConfig.get(adapter)!;
    const finalStep = config.totalStep! - config.tfinal;
    if (globalStep < finalStep) {
      const { rankPattern } = allocator.updateAndAllocate(this.model, globalStep);
      if (rankPattern !== null && Object.keys(rankPattern).length > 0) config.rankPattern = rankPattern;
    } else if (globalStep === finalStep) {
      config.rankPattern = allocator.updateAndAllocate(this.model, globalStep, true).rankPattern;
      allocator.resetIpt();
    } else if (config.rankPattern !== null) {
      allocator.maskUsingRankPattern(this.model, config.rankPattern);
    }
  }
}
