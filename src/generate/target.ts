// What generate runs: a PreTrainedModel, or one with adapters — a LoraModel / BaseTuner, or a
// PeftModel: with injected adapters its tuner runs the forward (per-row adapters, adapterNames, go
// through the mixed-batch forward); with prompt learning on a causal LM its own generation session
// runs, on an encoder-decoder model its rewrite of the encoder inputs.
import type { ModelInputs, ModelOutput } from '../models/outputs.js';
import { PreTrainedModel } from '../models/pretrained.js';
import type { PromptLearningConfig } from '../peft/config.js';
import { PeftModel } from '../peft/peft-model.js';
import { BASE_ADAPTER_NAME } from '../peft/tuners/lora/layer.js';
import { BaseTuner, type TunerConfig } from '../peft/tuners/base-tuner.js';
import { LoraModel } from '../peft/tuners/lora/model.js';
import { modelGenerationDefaults, type GenerationOptions } from './config.js';
import { GenerationConfigError, GenerationError } from './errors.js';
import type { DecodingSession, EncoderPrompt } from './sessions.js';

/** A model generate accepts. */
export type GenerativeModel = PreTrainedModel | BaseTuner<TunerConfig> | PeftModel;

export interface GenerationTarget {
  /** The transformers model (config, generation defaults). */
  model: PreTrainedModel;
  /** The injected adapters around it, if any. */
  tuner: BaseTuner<TunerConfig> | null;
  /** Prompt learning on a causal LM: the PeftModel's generation session (it injects the prompt at the prefill). */
  promptSession: (() => DecodingSession) | null;
  /** Prompt learning on an encoder-decoder model: the virtual tokens or prefix for the first step. */
  encoderPrompt: EncoderPrompt | null;
  /** Prompt learning: positions the active adapter's virtual tokens take before the prompt. */
  virtualTokens: number;
}

export type Forward = (inputs: ModelInputs) => ModelOutput;

/** Finds the transformers model inside `model` and the adapters around it. */
export function generationTarget(model: GenerativeModel): GenerationTarget {
  const base = model instanceof PeftModel ? model.baseModel : model;
  const tuner = base instanceof BaseTuner ? base : null;
  const inner: unknown = tuner?.model ?? base;
  if (!(inner instanceof PreTrainedModel)) {
    throw new GenerationError(`generate: expected a PreTrainedModel (or a LoraModel / PeftModel around one), got ${(inner as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof inner}`);
  }
  const prompted = model instanceof PeftModel && tuner === null ? model : null;
  const seq2seq = inner.config.isEncoderDecoder;
  return {
    model: inner,
    tuner,
    promptSession: prompted !== null && !seq2seq ? () => prompted.generationSession() : null,
    encoderPrompt: prompted !== null && seq2seq ? (inputs) => prompted.seq2seqGenerationInputs(inputs) : null,
    virtualTokens: prompted !== null ? ((prompted.activePeftConfig as PromptLearningConfig).numVirtualTokens ?? 0) : 0,
  };
}

function checkAdapterNames(tuner: BaseTuner<TunerConfig> | null, names: readonly string[], batchSize: number): asserts tuner is LoraModel {
  if (!Array.isArray(names) || names.length !== batchSize || !names.every((n) => typeof n === 'string')) {
    throw new GenerationConfigError('adapterNames', `generation options: 'adapterNames' must hold one adapter name per prompt (${batchSize}), got ${JSON.stringify(names)}`);
  }
  if (!(tuner instanceof LoraModel)) {
    throw new GenerationConfigError('adapterNames', "generation options: 'adapterNames' needs a model with LoRA adapters (a LoraModel or PeftModel)");
  }
  const unknown = [...new Set(names)].filter((n) => n !== BASE_ADAPTER_NAME && !tuner.peftConfig.has(n));
  if (unknown.length > 0) {
    const known = [...tuner.peftConfig.keys(), BASE_ADAPTER_NAME].join(', ');
    throw new GenerationConfigError('adapterNames', `generation options: 'adapterNames' holds unknown adapter(s) ${unknown.join(', ')} (known: ${known})`);
  }
}

/** The forward pass to run: through the adapters when there are any, one adapter per row with `adapterNames`. */
export function targetForward({ model, tuner }: GenerationTarget, adapterNames: readonly string[] | undefined, batchSize: number): Forward {
  const run: Forward = tuner === null ? (inputs) => model.forward(inputs) : (inputs) => tuner.forward(inputs) as ModelOutput;
  if (adapterNames === undefined) return run;
  checkAdapterNames(tuner, adapterNames, batchSize);
  return (inputs) => tuner.withAdapterNames(adapterNames, () => run(inputs));
}

/** The model's generation defaults: its generation_config.json, else the generation keys of its config.json. */
export function modelDefaults(model: PreTrainedModel): GenerationOptions {
  return modelGenerationDefaults({ config: model.config.raw, generationConfig: model.generationConfig });
}
