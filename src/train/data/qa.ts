// Extractive question answering on SQuAD records {question, context, answers: {text: [...],
// answer_start: [...]}}, as transformers' run_qa prepares training features: the question first,
// the context cut into windows of what room maxLength leaves (consecutive windows share docStride
// tokens), and per window the tokens where the first answer starts and ends — or, when the answer is
// not wholly inside the window (or there is none), the CLS token's position (0 without one).
// answer_start counts characters as Python does (code points).
import type { Tokenizer } from '../../tokenizers/index.js';
import { DataError } from './errors.js';
import type { Example } from './example.js';
import { describe, getString, type DataRecord } from './record.js';

export interface QaOptions {
  /** Tokens per feature, question and special tokens included (default 384). */
  maxLength?: number;
  /** Tokens shared by consecutive windows of a long context (default 128). */
  docStride?: number;
}

/** The UTF-16 index of code point `n` of `text`. */
function utf16Index(text: string, n: number): number {
  let i = 0;
  for (let cp = 0; cp < n && i < text.length; cp++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return i;
}

interface Answer {
  start: number;
  end: number;
}

/** The first answer's [start, end) in UTF-16 units of the context, checked against its text; null for none. */
function firstAnswer(rec: DataRecord, context: string): Answer | null {
  const a = rec.data.answers as { text?: unknown; answer_start?: unknown } | undefined;
  const ok = a !== null && typeof a === 'object' && Array.isArray(a.text) && Array.isArray(a.answer_start) && a.text.length === a.answer_start.length;
  if (!ok) throw new DataError(rec.file, rec.line, `field "answers" must be {"text": [strings], "answer_start": [integers]} of equal lengths, got ${describe(a)}`);
  const texts = a.text as unknown[];
  const starts = a.answer_start as unknown[];
  if (texts.length === 0) return null;
  const text = texts[0];
  const startCp = starts[0];
  if (typeof text !== 'string' || !Number.isSafeInteger(startCp) || (startCp as number) < 0) {
    throw new DataError(rec.file, rec.line, `field "answers": the first answer must be a string with a non-negative integer answer_start, got ${describe(text)} at ${describe(startCp)}`);
  }
  const start = utf16Index(context, startCp as number);
  if (context.slice(start, start + text.length) !== text) {
    throw new DataError(rec.file, rec.line, `field "answers": the answer ${JSON.stringify(text)} is not in the context at answer_start ${startCp as number}`);
  }
  return { start, end: start + text.length };
}

/** Start and end token positions of the answer in one feature. */
function positions(offsets: readonly [number, number][], sequenceIds: readonly (0 | 1 | null)[], answer: Answer | null, cls: number): [number, number] {
  if (answer === null) return [cls, cls];
  let ts = sequenceIds.indexOf(1);
  let te = sequenceIds.lastIndexOf(1);
  if (ts < 0 || !(offsets[ts]![0] <= answer.start && offsets[te]![1] >= answer.end)) return [cls, cls];
  while (ts < offsets.length && offsets[ts]![0] <= answer.start) ts++;
  while (offsets[te]![1] >= answer.end) te--;
  return [ts - 1, te + 1];
}

/** A feature with, per token, its [start, end) in the context (UTF-16) or null outside the context: what answer decoding needs. */
export interface QaFeature {
  example: Example;
  contextOffsets: ([number, number] | null)[];
}

/** The training features (one per context window) of a SQuAD record. */
export function buildQaFeatures(tokenizer: Tokenizer, rec: DataRecord, opts: QaOptions = {}): Example[] {
  return buildQaFeaturesWithOffsets(tokenizer, rec, opts).map((f) => f.example);
}

/** The features of buildQaFeatures with their context offsets, for evaluation. */
export function buildQaFeaturesWithOffsets(tokenizer: Tokenizer, rec: DataRecord, opts: QaOptions = {}): QaFeature[] {
  const maxLength = opts.maxLength ?? 384;
  const stride = opts.docStride ?? 128;
  if (!(Number.isInteger(maxLength) && maxLength > 0)) throw new TypeError(`buildQaFeatures: maxLength must be a positive integer, got ${maxLength}`);
  if (!(Number.isInteger(stride) && stride >= 0)) throw new TypeError(`buildQaFeatures: docStride must be a non-negative integer, got ${stride}`);
  const question = getString(rec, 'question').trimStart();
  const context = getString(rec, 'context');
  const answer = firstAnswer(rec, context);
  const q = tokenizer.encode(question, { addSpecialTokens: false });
  const ctx = tokenizer.encodeWithOffsets(context, { addSpecialTokens: false });
  const room = maxLength - q.length - tokenizer.numSpecialTokensToAdd(true);
  if (room <= stride) {
    throw new DataError(rec.file, rec.line, `field "question": with its ${q.length} tokens, maxLength ${maxLength} leaves ${Math.max(room, 0)} tokens per context window, which must be more than docStride ${stride}`);
  }
  const clsId = tokenizer.specialId('cls_token');
  const features: QaFeature[] = [];
  for (let from = 0; ; from += room - stride) {
    const to = Math.min(from + room, ctx.ids.length);
    const built = tokenizer.buildInputsWithSpecialTokens(q, ctx.ids.slice(from, to));
    let next = from;
    const offsets = built.sequenceIds.map((s): [number, number] => (s === 1 ? ctx.offsets[next++]! : [0, 0]));
    const cls = clsId === null ? 0 : Math.max(built.inputIds.indexOf(clsId), 0);
    const [startPositions, endPositions] = positions(offsets, built.sequenceIds, answer, cls);
    features.push({
      example: { inputIds: Int32Array.from(built.inputIds), tokenTypeIds: Int32Array.from(built.tokenTypeIds), startPositions, endPositions },
      contextOffsets: offsets.map((o, i) => (built.sequenceIds[i] === 1 ? o : null)),
    });
    if (to === ctx.ids.length) break;
  }
  return features;
}
