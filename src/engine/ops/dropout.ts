// Inverted dropout: each element is zeroed with probability p and the rest scaled by 1/(1-p).
// The mask comes from the counter-based hash of src/native/random.h, so the backward regenerates
// it from the forward's counter instead of keeping it in memory.
import { record } from '../autograd.js';
import { EngineError } from '../errors.js';
import { type Generator, generatorOption } from '../random.js';
import { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { checkNumber } from './check-number.js';
import { nativeKernel } from './native-kernel.js';
import { contiguous } from './view.js';

type Buf = ArrayBuffer;
/** (src, dst, n, seedHi, seedLo, counter, p, scale): dst = (draw(counter + i) >= p) ? src·scale : 0. */
const dropoutApply = nativeKernel<(src: Buf, dst: Buf, n: number, seedHi: number, seedLo: number, counter: number, p: number, scale: number) => void>('dropoutApply');

export interface DropoutOptions {
  /** When false (evaluation), dropout is the identity. Default true, as torch.nn.functional.dropout. */
  training?: boolean;
  /** The random stream to draw the mask from; defaultGenerator when left out. */
  generator?: Generator;
}

export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  checkFloat('dropout', 'x', x);
  checkNumber('dropout', 'p', p);
  if (!(p >= 0 && p <= 1)) throw new EngineError('dropout', 'p', `must be in [0, 1], got ${p}`);
  const gen = generatorOption('dropout', options.generator);
  if (options.training === false || p === 0) return contiguous(x);
  const [seedHi, seedLo] = gen.seedWords();
  const counter = gen.take(x.size);
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const apply = (src: Tensor): Tensor => {
    const dst = Tensor.empty(src.shape);
    if (src.size > 0) dropoutApply(src.buffer, dst.buffer, src.size, seedHi, seedLo, counter, p, scale);
    return dst;
  };
  return record('dropout', apply(x), [x], (g) => [apply(g)]);
}
