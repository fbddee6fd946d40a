// The token embeddings a stack starts from: looked up from inputIds [B, T], or given as
// inputsEmbeds [B, T, E] — exactly one of the two (for a decoder: decoderInputIds / decoderInputsEmbeds).
import { ShapeError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Module } from '../../nn/module.js';
import type { ModelInputs } from '../outputs.js';
import { call } from './layers.js';

/** inputsEmbeds, or parent.<embedding>(inputIds); the decoder's pair with `decoder`. */
export function embedInputs(parent: Module, embedding: string, inputs: ModelInputs, decoder = false): Tensor {
  const op = `${parent.typeName}.forward`;
  const [idsName, embedsName] = decoder ? (['decoderInputIds', 'decoderInputsEmbeds'] as const) : (['inputIds', 'inputsEmbeds'] as const);
  const ids = inputs[idsName];
  const embeds = inputs[embedsName];
  if ((ids === undefined) === (embeds === undefined)) throw new ShapeError(op, idsName, `or ${embedsName} must be given, and not both`);
  if (embeds !== undefined) {
    if (embeds.ndim !== 3) throw new ShapeError(op, embedsName, `must be [batch, seq, hidden], got [${embeds.shape.join(', ')}]`);
    return embeds;
  }
  if (ids!.ndim !== 2) throw new ShapeError(op, idsName, `must be [batch, seq], got [${ids!.shape.join(', ')}]`);
  return call(parent, embedding, ids!);
}
