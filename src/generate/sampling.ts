// Choosing the next token of each row from its processed scores: greedy (the first maximum, as
// torch.argmax) or a draw from softmax(scores) with a seeded counter-based Generator. Each row
// draws its own uniform number, so rows are independent and a seed reproduces the whole run.
import { DTypeError, ShapeError } from '../engine/errors.js';
import { argmax } from '../engine/ops/selection.js';
import type { Generator } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import { GenerationError } from './errors.js';
import { kernels } from './kernels.js';

function checkScores(op: string, scores: Tensor): [batch: number, vocab: number] {
  scores.assertAlive(op, 'scores');
  if (scores.dtype !== 'float32') throw new DTypeError(op, 'scores', `must be float32, got ${scores.dtype}`);
  if (scores.ndim !== 2 || scores.shape[1] === 0) throw new ShapeError(op, 'scores', `must have shape [batch, vocab] with vocab > 0, got [${scores.shape.join(', ')}]`);
  return [scores.shape[0]!, scores.shape[1]!];
}

/** The index of each row's largest score (the first on ties; NaN ranks highest). */
export function greedyTokens(scores: Tensor): Int32Array {
  checkScores('greedyTokens', scores);
  const ids = argmax(scores, 1);
  const out = Int32Array.from(ids.data());
  ids.dispose();
  return out;
}

/** One index per row drawn from softmax(scores); consumes `batch` values of the generator. */
export function sampleTokens(scores: Tensor, generator: Generator): Int32Array {
  const [batch, vocab] = checkScores('sampleTokens', scores);
  const out = new Int32Array(batch);
  const [hi, lo] = generator.seedWords();
  kernels.sampleRows(scores.buffer, out.buffer, batch, vocab, hi, lo, generator.take(batch));
  const bad = out.indexOf(-1);
  if (bad >= 0) {
    throw new GenerationError(`sampleTokens: row ${bad} has no probability distribution (its scores hold a NaN or +inf, or are all -inf)`);
  }
  return out;
}
