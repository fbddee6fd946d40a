// The token embeddings a backbone starts from: looked up from inputIds [B, T], or given as
// inputsEmbeds [B, T, E] — exactly one of the two.
import { EngineError, ShapeError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Module } from '../../nn/module.js';
import type { ModelInputs } from '../outputs.js';
import { call } from './layers.js';

/** inputsEmbeds, or parent.<embedding>(inputIds). */
export function embedInputs(parent: Module, embedding: string, inputs: ModelInputs): Tensor {
  const op = `${parent.typeName}.forward`;
  const { inputIds, inputsEmbeds } = inputs;
  if ((inputIds === undefined) === (inputsEmbeds === undefined)) throw new EngineError(op, 'inputIds', 'or inputsEmbeds must be given, and not both');
  if (inputsEmbeds !== undefined) {
    if (inputsEmbeds.ndim !== 3) throw new ShapeError(op, 'inputsEmbeds', `must be [batch, seq, hidden], got [${inputsEmbeds.shape.join(', ')}]`);
    return inputsEmbeds;
  }
  if (inputIds!.ndim !== 2) throw new ShapeError(op, 'inputIds', `must be [batch, seq], got [${inputIds!.shape.join(', ')}]`);
  return call(parent, embedding, inputIds!);
}
