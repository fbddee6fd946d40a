// Token classification (tagging): {tokens: words, tags: a label per word} → sub-word tokens with the
// word's label on its first token and -100 on its other tokens (or, with labelAllTokens, the label
// again, B-X turned into I-X) and on special tokens — transformers' run_ner recipe. The words are
// tokenized as the text they spell, joined with single spaces (so a byte-level BPE sees ' word' for
// every word after the first); each token belongs to the word its character offsets fall in.
import type { Tokenizer } from '../../tokenizers/index.js';
import { DataError } from './errors.js';
import { IGNORE_INDEX, resolveMaxLength, truncateIds, type Example } from './example.js';
import type { LabelMap } from './label-map.js';
import { getLabelArray, getStringArray, type DataRecord } from './record.js';

export interface TokenClassificationOptions {
  labels: LabelMap;
  /** Default 'tokens'. */
  tokensField?: string;
  /** Default 'tags'. */
  tagsField?: string;
  /** Label every token of a word, not only the first (default false). */
  labelAllTokens?: boolean;
  /** Default the tokenizer's model_max_length. */
  maxLength?: number;
}

/** Word index of each token: the word holding its first word character, else the word right after it (a lone '▁'). */
function tokenWords(words: readonly string[], offsets: readonly [number, number][]): (number | null)[] {
  const owner: (number | null)[] = [];
  words.forEach((w, i) => {
    for (let c = 0; c < w.length; c++) owner.push(i);
    owner.push(null);
  });
  return offsets.map(([start, end]) => {
    for (let c = start; c < end; c++) if (owner[c] !== null && owner[c] !== undefined) return owner[c]!;
    return owner[end] ?? null;
  });
}

export function buildTokenClassificationExample(tokenizer: Tokenizer, rec: DataRecord, opts: TokenClassificationOptions): Example {
  const maxLength = resolveMaxLength(tokenizer, opts.maxLength, 'buildTokenClassificationExample');
  const tokensField = opts.tokensField ?? 'tokens';
  const tagsField = opts.tagsField ?? 'tags';
  const words = getStringArray(rec, tokensField);
  const tags = getLabelArray(rec, tagsField);
  if (tags.length !== words.length) {
    throw new DataError(rec.file, rec.line, `field "${tagsField}" has ${tags.length} tags for the ${words.length} words of "${tokensField}"`);
  }
  const ids = tags.map((t) => opts.labels.id(t, rec, tagsField));
  // The label for a word's later tokens with labelAllTokens: I-X for B-X when the label list has it.
  const inner = ids.map((id, w) => {
    const name = typeof tags[w] === 'string' ? opts.labels.names[id]! : '';
    return name.startsWith('B-') && opts.labels.has(`I-${name.slice(2)}`) ? opts.labels.id(`I-${name.slice(2)}`, rec, tagsField) : id;
  });
  const enc = tokenizer.encodeWithOffsets(words.join(' '), { addSpecialTokens: false });
  const keep = maxLength - tokenizer.numSpecialTokensToAdd();
  const content = truncateIds(enc.ids, keep, tokenizer.truncationSide);
  const kept = truncateIds(tokenWords(words, enc.offsets) as number[], keep, tokenizer.truncationSide) as (number | null)[];
  const built = tokenizer.buildInputsWithSpecialTokens(content);
  const labels = new Int32Array(built.inputIds.length).fill(IGNORE_INDEX);
  let next = 0;
  let prev: number | null = null;
  built.sequenceIds.forEach((seq, i) => {
    if (seq === null) {
      prev = null;
      return;
    }
    const w = kept[next++]!;
    if (w !== null) labels[i] = w !== prev ? ids[w]! : opts.labelAllTokens ? inner[w]! : IGNORE_INDEX;
    prev = w;
  });
  return { inputIds: Int32Array.from(built.inputIds), labels };
}
