// Truncation and padding of token id sequences, as transformers' fast tokenizers apply them: the
// text's own tokens are truncated so that, with the special tokens around them, at most maxLength
// remain; padding fills every row up to a common length on one side, with a 0 attention mask there.
import type { Side } from './config.js';
import { TokenizerError } from './errors.js';

/** An encoded text: the special tokens the post-processor put around it, and its own tokens. */
export interface FramedIds {
  prefix: number[];
  content: number[];
  suffix: number[];
}

export function truncateFramed(f: FramedIds, maxLength: number, side: Side): number[] {
  const room = maxLength - f.prefix.length - f.suffix.length;
  if (room < 0) {
    throw new TokenizerError(`maxLength ${maxLength} leaves no room for the ${f.prefix.length + f.suffix.length} special tokens added to each text`);
  }
  const content = f.content.length <= room ? f.content : side === 'right' ? f.content.slice(0, room) : f.content.slice(f.content.length - room);
  return [...f.prefix, ...content, ...f.suffix];
}

export interface BatchEncoding {
  inputIds: number[][];
  attentionMask: number[][];
}

export function padBatch(rows: number[][], length: number, padId: number, side: Side): BatchEncoding {
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  for (const row of rows) {
    const n = Math.max(length - row.length, 0);
    const fill = new Array<number>(n).fill(padId);
    const zeros = new Array<number>(n).fill(0);
    const ones = new Array<number>(row.length).fill(1);
    inputIds.push(side === 'left' ? [...fill, ...row] : [...row, ...fill]);
    attentionMask.push(side === 'left' ? [...zeros, ...ones] : [...ones, ...zeros]);
  }
  return { inputIds, attentionMask };
}
