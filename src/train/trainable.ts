// What the Trainer needs from a model, and the events it reports. A PEFT model (or any Module with a
// loss) plugs in by implementing TrainableModel; the trainer never looks inside the batch.
import type { Module } from '../nn/module.js';
import type { Tensor } from '../engine/tensor.js';

export interface LossOptions {
  /**
   * Loss items (e.g. label tokens other than -100) in all the micro-batches of the current optimizer
   * step; set only for models that implement countLossItems. The loss must then be the sum over the
   * batch's items divided by this number, so the micro-batch losses add up to the step's mean.
   */
  numItemsInBatch?: number;
  /** TrainingArguments.gradientCheckpointing: recompute activations in the backward pass. */
  gradientCheckpointing: boolean;
}

export interface TrainableModel<B> {
  /**
   * The module tree. Its parameters with requiresGrad are trained (and saved in checkpoints);
   * train()/eval() switch dropout; generators held by its modules are checkpointed.
   */
  readonly module: Module;
  /**
   * A scalar loss for one batch: the mean over the batch, or, given numItemsInBatch, the sum over the
   * batch divided by it. Called under noGrad (and module.eval()) for evaluation.
   */
  computeLoss(batch: B, options: LossOptions): Tensor;
  /** Writes the trained weights (for PEFT: adapter_config.json + adapter_model.safetensors) into an existing folder. */
  saveAdapter(dir: string): void;
  /**
   * Optional: the number of items the loss of `batch` averages over. When present, the trainer
   * normalises by the item count of the whole optimizer step (transformers' num_items_in_batch, its
   * default for models whose loss accepts it, such as causal LMs counting labels[..., 1:] != -100);
   * otherwise each micro-batch's mean loss is divided by the number of micro-batches.
   */
  countLossItems?(batch: B): number;
  /** Optional: true for language models, whose evaluation also reports eval_perplexity = exp(eval_loss). */
  readonly languageModel?: boolean;
}

/** One entry of the log history (trainer_state.json's log_history, metrics.jsonl's lines). */
export type LogEntry = Record<string, number>;

export interface TrainerCallbacks {
  /**
   * transformers' on_optimizer_step: right after optimizer.step(), before the schedule advances and the
   * gradients are zeroed (inside the step's scope, so the gradients are still on the parameters), with
   * state.globalStep the number of steps completed before this one (0 on the first). Synchronous only: a
   * callback that returns a Promise stops training with a TrainerError.
   */
  onOptimizerStep?(state: TrainerStateView): void;
  /** After each optimizer step, once it is counted in state.globalStep. */
  onStep?(state: TrainerStateView): void | Promise<void>;
  /** After each training log or evaluation entry is recorded. */
  onLog?(entry: LogEntry, state: TrainerStateView): void | Promise<void>;
  /** After each evaluation, with its metrics (eval_loss, …). */
  onEvaluate?(metrics: LogEntry, state: TrainerStateView): void | Promise<void>;
  /** After a checkpoint folder is complete. */
  onSave?(checkpointDir: string, state: TrainerStateView): void | Promise<void>;
}

/** Training progress as callbacks see it. */
export interface TrainerStateView {
  readonly globalStep: number;
  readonly maxSteps: number;
  readonly epoch: number;
  readonly logHistory: readonly LogEntry[];
  readonly bestMetric: number | null;
  readonly bestModelCheckpoint: string | null;
}
