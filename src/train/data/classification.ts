// Sequence classification: {text, label} or, with textPairField, a text pair; the label is mapped
// through a LabelMap (strings) or taken as an id (integers). Too-long inputs are truncated as
// transformers' truncation=True does ('longest_first' for pairs).
import type { Tokenizer } from '../../tokenizers/index.js';
import { encodeTruncated, resolveMaxLength, truncateIds, type Example } from './example.js';
import type { LabelMap } from './label-map.js';
import { getLabel, getString, type DataRecord } from './record.js';

export interface ClassificationOptions {
  labels: LabelMap;
  /** Default 'text'. */
  textField?: string;
  /** The second text of a pair (e.g. 'text_pair'); none by default. */
  textPairField?: string;
  /** Default 'label'. */
  labelField?: string;
  /** Default the tokenizer's model_max_length. */
  maxLength?: number;
}

/**
 * Lengths to keep of two texts so that together they fit `room` tokens, as transformers'
 * 'longest_first' truncation: tokens come off the longer text until both are as long, then off both
 * alike, the second losing the odd one.
 */
function longestFirst(n1: number, n2: number, room: number): [number, number] {
  const remove = n1 + n2 - room;
  if (remove <= 0) return [n1, n2];
  const uneven = Math.min(Math.abs(n1 - n2), remove);
  const even = remove - uneven;
  const fromFirst = Math.floor(even / 2) + (n1 > n2 ? uneven : 0);
  return [n1 - fromFirst, n2 - (remove - fromFirst)];
}

export function buildClassificationExample(tokenizer: Tokenizer, rec: DataRecord, opts: ClassificationOptions): Example {
  const maxLength = resolveMaxLength(tokenizer, opts.maxLength, 'buildClassificationExample');
  const labelField = opts.labelField ?? 'label';
  const labels = opts.labels.id(getLabel(rec, labelField), rec, labelField);
  const text = getString(rec, opts.textField ?? 'text');
  if (opts.textPairField === undefined) return { inputIds: Int32Array.from(encodeTruncated(tokenizer, text, maxLength)), labels };
  const a = tokenizer.encode(text, { addSpecialTokens: false });
  const b = tokenizer.encode(getString(rec, opts.textPairField), { addSpecialTokens: false });
  const [k1, k2] = longestFirst(a.length, b.length, maxLength - tokenizer.numSpecialTokensToAdd(true));
  const side = tokenizer.truncationSide;
  const built = tokenizer.buildInputsWithSpecialTokens(truncateIds(a, k1, side), truncateIds(b, k2, side));
  return { inputIds: Int32Array.from(built.inputIds), tokenTypeIds: Int32Array.from(built.tokenTypeIds), labels };
}
