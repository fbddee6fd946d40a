// VBLoRAModel (PEFT's vblora/model.py): one vector bank per adapter, uniform in ±init_vector_bank_bound, held as the
// tuner's own child (`base_model.vblora_vector_bank.<adapter>` under a PeftModel) and shared by every layer of that
// adapter. With save_only_topk_weights the adapter file keeps, instead of each layer's logits, the indices of their
// topk entries and the softmax weights of all but the last, from which loading rebuilds logits with -inf elsewhere.
import { noGrad } from '../../../engine/autograd.js';
import { rand } from '../../../engine/ops/creation.js';
import { softmax } from '../../../engine/ops/softmax.js';
import { Tensor } from '../../../engine/tensor.js';
import type { FileDType } from '../../../io/dtypes.js';
import type { SaveableTensor } from '../../../io/safetensors-writer.js';
import { ParameterDict } from '../../../nn/containers.js';
import { Conv1D, Linear } from '../../../nn/linear.js';
import type { Module } from '../../../nn/module.js';
import { AdapterWeightsError } from '../../errors.js';
import { TRANSFORMERS_MODELS_TO_VBLORA_TARGET_MODULES_MAPPING } from '../../utils/constants.js';
import { BaseTuner, checkLayerKind, type TunerOptions } from '../base-tuner.js';
import type { BaseTunerLayer } from '../base-tuner-layer.js';
import { matchFanInFanOut } from '../lora/layer.js';
import { checkSingleBiasAdapter } from '../lora/model.js';
import { VBLoRAConfig } from './config.js';
import { checkVectorLength, VBLoRALayer } from './layer.js';
import { torchTopk } from './torch-topk.js';

const INDICES = '_topk_indices';
const WEIGHTS = '_topk_weights';

/** The narrowest integer type PEFT stores topk indices in for a bank of `numVectors` vectors. */
function indexFileDtype(numVectors: number): FileDType {
  if (numVectors < 2 ** 8) return 'U8';
  if (numVectors < 2 ** 15) return 'I16';
  return numVectors < 2 ** 31 ? 'I32' : 'I64';
}

/** int32 values as little-endian bytes of `dtype`. */
function narrowedBytes(values: Int32Array, dtype: FileDType): Uint8Array {
  if (dtype === 'U8') return Uint8Array.from(values);
  if (dtype === 'I16') return new Uint8Array(Int16Array.from(values).buffer);
  if (dtype === 'I32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
}

/** Topk indices and the softmax weights of all but the last of them, for logits [..., N] (PEFT's saved form). */
function topkForm(logits: Tensor, k: number): { indices: Tensor; weights: Tensor } {
  return noGrad(() => {
    const { values, indices } = torchTopk(logits, k);
    const all = softmax(values, -1);
    const lead = all.shape.slice(0, -1);
    const rows = all.size / k;
    const kept = Tensor.empty([...lead, k - 1]);
    const src = all.data();
    const dst = kept.data();
    for (let i = 0; i < rows; i++) for (let j = 0; j < k - 1; j++) dst[i * (k - 1) + j] = src[i * k + j]!;
    values.dispose();
    all.dispose();
    return { indices, weights: kept };
  });
}

/** Logits [..., N] from topk indices and the first k-1 weights: log of each weight at its index, -inf elsewhere. */
function logitsFromTopk(indices: Tensor, weights: Tensor, numVectors: number, file: string | undefined, key: string): Tensor {
  const k = indices.shape.at(-1)!;
  const rows = indices.size / k;
  if (weights.size !== rows * (k - 1)) throw new AdapterWeightsError(file, key, `holds ${weights.size} weights for ${rows} rows of ${k} topk indices; expected ${rows * (k - 1)}`);
  const logits = Tensor.empty([...indices.shape.slice(0, -1), numVectors]);
  const out = logits.data();
  out.fill(-Infinity);
  const idx = indices.data();
  const w = weights.data();
  for (let i = 0; i < rows; i++) {
    let total = 0;
    for (let j = 0; j < k; j++) {
      const at = idx[i * k + j]!;
      if (!(at >= 0 && at < numVectors)) throw new AdapterWeightsError(file, key, `has index ${at}, outside the bank of ${numVectors} vectors`);
      // float32 arithmetic as torch: the last weight is 1 minus the sum of the others.
      const weight = j < k - 1 ? w[i * (k - 1) + j]! : Math.fround(1 - total);
      if (j < k - 1) total = Math.fround(total + weight);
      out[i * numVectors + at] = Math.log(weight);
    }
  }
  return logits;
}

export class VBLoRAModel<M extends Module = Module> extends BaseTuner<VBLoRAConfig, M> {
  protected readonly configClass = VBLoRAConfig;
  /** Prefix of the VB-LoRA parameter containers (PEFT_TYPE_TO_PREFIX_MAPPING). */
  static readonly prefix = 'vblora_';

  constructor(model: M, config: VBLoRAConfig, adapterName = 'default', options: TunerOptions = {}) {
    super(model, config, adapterName, options);
    this.registerModule('vblora_vector_bank', new ParameterDict());
    this.injectAdapter(adapterName);
  }

  get vectorBank(): ParameterDict {
    return this.child('vblora_vector_bank');
  }

  /** Draws the adapter's bank, then injects it (with the model type's default targets where unset); a refused adapter leaves no bank. */
  protected override injectAdapter(adapterName: string): void {
    const config = this.peftConfig.get(adapterName)!;
    this.fillDefaultTargets(config, TRANSFORMERS_MODELS_TO_VBLORA_TARGET_MODULES_MAPPING, 'VB-LoRA');
    const bound = config.initVectorBankBound;
    this.vectorBank.set(adapterName, rand([config.numVectors, config.vectorLength], { low: -bound, high: bound, generator: this.options.generator }));
    try {
      super.injectAdapter(adapterName);
    } catch (e) {
      this.vectorBank.delete(adapterName);
      throw e;
    }
  }

  protected isTunerLayer(m: Module): m is BaseTunerLayer {
    return m instanceof VBLoRALayer;
  }

  protected checkNewAdapterConfig(): void {
    checkSingleBiasAdapter(this.peftConfig.values());
  }

  /** Linear or Conv1D, with in and out features that vector_length divides (checked before any layer changes). */
  protected checkTarget(config: VBLoRAConfig, target: Module, key: string): void {
    checkLayerKind(target, key, [Linear, Conv1D], 'VB-LoRA supports Linear and Conv1D layers');
    const base = (target instanceof VBLoRALayer ? target.getBaseLayer() : target) as Linear | Conv1D;
    checkVectorLength(key, base.inFeatures, base.outFeatures, config.vectorLength);
  }

  protected createAndReplace(config: VBLoRAConfig, adapterName: string, target: Module, key: string): void {
    const { generator } = this.options;
    if (target instanceof VBLoRALayer) return target.updateLayer(adapterName, config, generator);
    matchFanInFanOut(target as Linear | Conv1D, config, key);
    this.replaceModule(key, new VBLoRALayer(target as Linear | Conv1D, adapterName, this.vectorBank, config, { key, generator }), adapterName);
  }

  /** Also drops the adapter's bank. */
  override deleteAdapter(name: string): void {
    super.deleteAdapter(name);
    this.vectorBank.delete(name);
  }

  /** With save_only_topk_weights, each `…vblora_logits_A` / `_B` becomes `…_topk_indices` and `…_topk_weights`. */
  override toSavedState(adapterName: string, state: Map<string, Tensor>): void {
    const config = this.peftConfig.get(adapterName)!;
    if (!config.saveOnlyTopkWeights) return;
    for (const [key, logits] of [...state]) {
      if (!key.includes('vblora_logits')) continue;
      const { indices, weights } = topkForm(logits, config.topk);
      state.delete(key);
      state.set(key + INDICES, indices);
      state.set(key + WEIGHTS, weights);
    }
  }

  /** Topk indices in PEFT's integer type: uint8 below 256 vectors, int16 below 2^15, int32 below 2^31. */
  override fileTensors(adapterName: string, state: ReadonlyMap<string, Tensor>): Record<string, SaveableTensor> {
    const dtype = indexFileDtype(this.peftConfig.get(adapterName)!.numVectors);
    return Object.fromEntries(
      [...state].map(([k, t]): [string, SaveableTensor] => (k.endsWith(INDICES) ? [k, { dtype, shape: [...t.shape], bytes: narrowedBytes(t.data() as Int32Array, dtype) }] : [k, t])),
    );
  }

  /** Rebuilds the logits of a save_only_topk_weights checkpoint from its topk indices and weights. */
  override fromSavedState(adapterName: string, weights: Map<string, Tensor>, file?: string): void {
    if (!this.peftConfig.get(adapterName)!.saveOnlyTopkWeights) return;
    const numVectors = this.vectorBank.get(adapterName)!.shape[0]!;
    for (const [key, indices] of [...weights]) {
      if (!key.endsWith(INDICES)) continue;
      const logitsKey = key.slice(0, -INDICES.length);
      const topkWeights = weights.get(logitsKey + WEIGHTS);
      if (topkWeights === undefined) throw new AdapterWeightsError(file, logitsKey + WEIGHTS, `is missing; save_only_topk_weights checkpoints hold it beside ${key}`);
      weights.set(logitsKey, logitsFromTopk(indices, topkWeights, numVectors, file, key));
      for (const k of [key, logitsKey + WEIGHTS]) {
        weights.get(k)!.dispose();
        weights.delete(k);
      }
    }
  }
}
