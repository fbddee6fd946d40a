import {
  applyRotary, argmax, chunk, concat, embedding, gather, indexSelect, type RotaryOptions, rotaryCosSin, split, stack, topk,
} from '../../src/engine/index.js';
import { goldenTests } from '../helpers/golden.js';

type A = Record<string, unknown>;

function piece(pieces: ReturnType<typeof split>, o: A) {
  const kept = pieces[o.piece as number]!;
  for (const p of pieces) if (p !== kept) p.dispose();
  return kept;
}

goldenTests('indexing', {
  embedding: ([w, ids], o: A) => embedding(w!, ids!, { paddingIdx: o.paddingIdx as number | undefined }),
  indexSelect: ([x, index], o: A) => indexSelect(x!, o.axis as number, index!),
  gather: ([x, index], o: A) => gather(x!, o.axis as number, index!),
  concat: (xs, o: A) => concat(xs, o.axis as number),
  stack: (xs, o: A) => stack(xs, o.axis as number),
  split: ([x], o: A) => piece(split(x!, o.sizes as number | number[], o.axis as number), o),
  splitReversed: ([x], o: A) => concat(split(x!, o.sizes as number[], o.axis as number).reverse(), o.axis as number),
  chunk: ([x], o: A) => piece(chunk(x!, o.chunks as number, o.axis as number), o),
  argmax: ([x], o: A) => argmax(x!, o.axis as number | undefined, o.keepDim as boolean | undefined),
  topkValues: ([x], { k, ...o }: A) => topk(x!, k as number, o).values,
  topkIndices: ([x], { k, ...o }: A) => topk(x!, k as number, o).indices,
  applyRotary: ([x, cos, sin]) => applyRotary(x!, cos!, sin!),
  rotaryCosSin: ([positions], o: A) => {
    const { cos, sin } = rotaryCosSin(positions!, o as unknown as RotaryOptions);
    return stack([cos, sin]);
  },
});
