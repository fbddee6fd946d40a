// Batching examples into int32 engine tensors, as transformers' padding collators do
// (DataCollatorWithPadding, DataCollatorForTokenClassification, DataCollatorForSeq2Seq): sequences
// are padded to the longest in the batch (rounded up to padToMultipleOf) on the tokenizer's padding
// side — input ids with the pad token, attention masks with 0, segment ids with 0, per-token labels
// with -100 (to their own longest length, which for seq2seq differs from the inputs') — and class
// labels and answer positions are stacked. The caller owns (and disposes) the tensors.
import { fromArray, type Tensor } from '../../engine/index.js';
import type { Side, Tokenizer } from '../../tokenizers/index.js';
import { IGNORE_INDEX, type Example } from './example.js';

export interface CollateOptions {
  /** Needed only when lengths differ. */
  padTokenId: number | null;
  /** Default 'right'. */
  paddingSide?: Side;
  padToMultipleOf?: number;
  /** Default -100. */
  labelPadId?: number;
}

export interface Batch {
  /** [batch, length] */
  inputIds: Tensor;
  /** [batch, length]: 1 on tokens, 0 on padding. */
  attentionMask: Tensor;
  /** [batch, labelLength] per-token labels, or [batch] class ids. */
  labels?: Tensor;
  tokenTypeIds?: Tensor;
  /** [batch] */
  startPositions?: Tensor;
  endPositions?: Tensor;
}

function paddedLength(rows: readonly ArrayLike<number>[], multiple: number | undefined): number {
  const longest = Math.max(0, ...rows.map((r) => r.length));
  return multiple === undefined ? longest : Math.ceil(longest / multiple) * multiple;
}

function padRows(rows: readonly ArrayLike<number>[], length: number, value: number, side: Side): Tensor {
  const out = new Int32Array(rows.length * length).fill(value);
  rows.forEach((r, i) => out.set(r, i * length + (side === 'left' ? length - r.length : 0)));
  return fromArray(out, [rows.length, length], 'int32');
}

/** A field that every example has or none has. */
function field<K extends keyof Example>(examples: readonly Example[], key: K): NonNullable<Example[K]>[] | null {
  const present = examples.filter((e) => e[key] !== undefined).length;
  if (present === 0) return null;
  if (present !== examples.length) throw new TypeError(`collate: "${key}" is set on ${present} of the ${examples.length} examples (all or none must have it)`);
  return examples.map((e) => e[key]!);
}

export function collate(examples: readonly Example[], opts: CollateOptions): Batch {
  if (examples.length === 0) throw new TypeError('collate: no examples');
  const side = opts.paddingSide ?? 'right';
  const multiple = opts.padToMultipleOf;
  if (multiple !== undefined && !(Number.isInteger(multiple) && multiple > 0)) throw new TypeError(`collate: padToMultipleOf must be a positive integer, got ${multiple}`);
  const inputs = examples.map((e) => e.inputIds);
  const length = paddedLength(inputs, multiple);
  if (opts.padTokenId === null && inputs.some((r) => r.length !== length)) {
    throw new TypeError('collate: the examples need padding but there is no pad token id (set the tokenizer\'s pad_token, e.g. to its eos_token)');
  }
  const batch: Batch = {
    inputIds: padRows(inputs, length, opts.padTokenId ?? 0, side),
    attentionMask: padRows(inputs.map((r) => new Int32Array(r.length).fill(1)), length, 0, side),
  };
  const types = field(examples, 'tokenTypeIds');
  if (types) batch.tokenTypeIds = padRows(types, length, 0, side);
  const labels = field(examples, 'labels');
  if (labels) {
    const scalar = labels.filter((l) => typeof l === 'number').length;
    if (scalar !== 0 && scalar !== labels.length) throw new TypeError('collate: some examples have class labels and others per-token labels');
    batch.labels =
      scalar > 0 ? fromArray(Int32Array.from(labels as number[]), [labels.length], 'int32') : padRows(labels as Int32Array[], paddedLength(labels as Int32Array[], multiple), opts.labelPadId ?? IGNORE_INDEX, side);
  }
  const starts = field(examples, 'startPositions');
  if (starts) batch.startPositions = fromArray(Int32Array.from(starts), [starts.length], 'int32');
  const ends = field(examples, 'endPositions');
  if (ends) batch.endPositions = fromArray(Int32Array.from(ends), [ends.length], 'int32');
  return batch;
}

/** A collate function with the tokenizer's pad token and padding side. */
export function dataCollator(tokenizer: Tokenizer, opts: Omit<CollateOptions, 'padTokenId'> = {}): (examples: readonly Example[]) => Batch {
  const settings: CollateOptions = { padTokenId: tokenizer.padTokenId, paddingSide: tokenizer.paddingSide, ...opts };
  return (examples) => collate(examples, settings);
}
