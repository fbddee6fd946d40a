// The evaluation pass shared by every task: batches of examples through a model's forward under
// noGrad in eval mode, the mean loss over the examples (each batch's mean loss weighted by its number
// of examples, as the Trainer's evaluate averages) and a hook that reads each batch's outputs.
import { noGrad, scope } from '../engine/index.js';
import type { ModelInputs, ModelOutput } from '../models/outputs.js';
import type { Module } from '../nn/module.js';
import type { Batch } from '../train/data/collate.js';
import type { Example } from '../train/data/example.js';
import { EvaluationError } from './errors.js';

/** A model (PeftModel or PreTrainedModel) whose forward returns a loss for labelled inputs. */
export type EvaluatedModel = Module & { forward(inputs: ModelInputs): ModelOutput };

export interface EvalLoopOptions {
  collate: (examples: readonly Example[]) => Batch;
  /** Default 8. */
  batchSize?: number;
  /** The model's inputs for a batch (default: the batch's fields, labels as they are). */
  inputs?: (batch: Batch) => ModelInputs;
}

/** Runs every example once; `read` sees each batch's outputs (inside the batch's scope: copy what it keeps). */
export function evaluationLoss(
  model: EvaluatedModel,
  examples: readonly Example[],
  opts: EvalLoopOptions,
  read: (output: ModelOutput, batch: Batch, examples: readonly Example[]) => void = () => {},
): number {
  const size = opts.batchSize ?? 8;
  if (!(Number.isInteger(size) && size > 0)) throw new EvaluationError(`batchSize must be a positive integer, got ${size}`);
  if (examples.length === 0) throw new EvaluationError('no examples to evaluate');
  const wasTraining = model.training;
  model.eval();
  let total = 0;
  try {
    noGrad(() => {
      for (let i = 0; i < examples.length; i += size) {
        const part = examples.slice(i, i + size);
        total += scope(() => {
          const batch = opts.collate(part);
          const output = model.forward(opts.inputs?.(batch) ?? { ...batch });
          if (output.loss === undefined) throw new EvaluationError(`${model.typeName}.forward returned no loss: the examples carry no labels it reads`);
          read(output, batch, part);
          return output.loss.item() * part.length;
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return total / examples.length;
}
