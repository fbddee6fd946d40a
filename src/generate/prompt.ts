// The prompt batch handed to the decoding loop: rows of one length (left-padded by the caller, e.g.
// with Tokenizer.encodeBatch) and their attention mask, inferred as transformers infers it when
// absent: from the pad token if the rows contain it and it is not an EOS id, else all ones.
import type { GenerationConfig } from './config.js';
import { GenerationError } from './errors.js';

export interface PromptBatch {
  inputIds: readonly (readonly number[])[];
  attentionMask?: readonly (readonly number[])[];
}

export interface CheckedPrompt {
  batchSize: number;
  length: number;
  rows: readonly (readonly number[])[];
  /** [batchSize, length] row-major. */
  ids: Int32Array;
  mask: Int32Array;
}

/** Rows of `length` entries (when given; else of the first row's length, at least 1) that pass `valid`. */
function checkRows(name: string, rows: unknown, valid: (v: unknown) => boolean, expected: string, length?: number): readonly (readonly number[])[] {
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every(Array.isArray)) {
    throw new GenerationError(`decode: prompt.${name} must be a non-empty array of rows (arrays of ${expected})`);
  }
  const width = length ?? (rows[0] as unknown[]).length;
  rows.forEach((row: unknown[], b) => {
    if (row.length !== width || width === 0) {
      const want = length === undefined ? 'one length of at least 1 (pad them)' : `the prompt's length, ${length}`;
      throw new GenerationError(`decode: prompt.${name} rows must all have ${want}; row ${b} has ${row.length}`);
    }
    const bad = row.findIndex((v) => !valid(v));
    if (bad >= 0) throw new GenerationError(`decode: prompt.${name}[${b}][${bad}] must be ${expected}, got ${String(row[bad])}`);
  });
  return rows as readonly (readonly number[])[];
}

export function checkPrompt(prompt: PromptBatch, config: GenerationConfig): CheckedPrompt {
  if (typeof prompt !== 'object' || prompt === null) throw new GenerationError('decode: prompt must be an object { inputIds, attentionMask? }');
  const rows = checkRows('inputIds', prompt.inputIds, (v) => Number.isSafeInteger(v) && (v as number) >= 0, 'token ids (non-negative integers)');
  const batchSize = rows.length;
  const length = rows[0]!.length;
  const ids = Int32Array.from(rows.flat());
  let mask: Int32Array;
  if (prompt.attentionMask !== undefined) {
    const maskRows = checkRows('attentionMask', prompt.attentionMask, (v) => v === 0 || v === 1, '0 or 1', length);
    if (maskRows.length !== batchSize) throw new GenerationError(`decode: prompt.attentionMask must have ${batchSize} rows (one per prompt), got ${maskRows.length}`);
    mask = Int32Array.from(maskRows.flat());
  } else {
    const pad = config.padTokenId;
    const infer = pad !== null && !config.eosTokenIds.includes(pad) && ids.includes(pad);
    mask = infer ? ids.map((id) => (id === pad ? 0 : 1)) : new Int32Array(ids.length).fill(1);
  }
  return { batchSize, length, rows, ids, mask };
}
