// Sequence-to-sequence: {source, target} → the (optionally prefixed) source's ids as inputs and the
// target's ids as labels, each with the tokenizer's special tokens and truncated to its own maximum,
// as run_translation / run_summarization prepare them. Label padding (-100) is the collator's job.
import type { Tokenizer } from '../../tokenizers/index.js';
import { encodeTruncated, resolveMaxLength, type Example } from './example.js';
import { getString, type DataRecord } from './record.js';

export interface Seq2SeqOptions {
  /** Default 'source'. */
  sourceField?: string;
  /** Default 'target'. */
  targetField?: string;
  /** Text put before every source, e.g. 'translate English to German: '. */
  prefix?: string;
  /** Default the tokenizer's model_max_length. */
  maxSourceLength?: number;
  /** Default the tokenizer's model_max_length. */
  maxTargetLength?: number;
}

export function buildSeq2SeqExample(tokenizer: Tokenizer, rec: DataRecord, opts: Seq2SeqOptions = {}): Example {
  const source = (opts.prefix ?? '') + getString(rec, opts.sourceField ?? 'source');
  const target = getString(rec, opts.targetField ?? 'target');
  const inputIds = encodeTruncated(tokenizer, source, resolveMaxLength(tokenizer, opts.maxSourceLength, 'buildSeq2SeqExample'));
  const labels = encodeTruncated(tokenizer, target, resolveMaxLength(tokenizer, opts.maxTargetLength, 'buildSeq2SeqExample'));
  return { inputIds: Int32Array.from(inputIds), labels: Int32Array.from(labels) };
}
