// Causal language modelling on raw text, packed like run_clm's group_texts: every document is
// tokenized (with the tokenizer's special tokens, e.g. BOS) and followed by EOS, the token stream is
// cut into blocks of blockSize, and the last incomplete block is dropped. Labels are the input ids
// (the model shifts them).
import type { Tokenizer } from '../../tokenizers/index.js';
import type { Example } from './example.js';
import { getString, type DataRecord } from './record.js';

export interface PackOptions {
  blockSize: number;
  /** The field holding the text (default 'text'). */
  textField?: string;
  /** Add the tokenizer's special tokens to each document (default true). */
  addSpecialTokens?: boolean;
  /** Token appended to each document (default the tokenizer's EOS; null for none). */
  separatorId?: number | null;
}

export class CausalLmPacker {
  private readonly blockSize: number;
  private readonly textField: string;
  private readonly addSpecialTokens: boolean;
  private readonly separatorId: number | null;
  private pending: number[] = [];

  constructor(
    private readonly tokenizer: Tokenizer,
    opts: PackOptions,
  ) {
    if (!(Number.isInteger(opts.blockSize) && opts.blockSize > 0)) throw new TypeError(`CausalLmPacker: blockSize must be a positive integer, got ${opts.blockSize}`);
    this.blockSize = opts.blockSize;
    this.textField = opts.textField ?? 'text';
    this.addSpecialTokens = opts.addSpecialTokens ?? true;
    const sep = opts.separatorId === undefined ? tokenizer.eosTokenId : opts.separatorId;
    if (opts.separatorId === undefined && sep === null) {
      throw new TypeError(`CausalLmPacker: ${tokenizer.name} has no eos_token to put between documents; pass separatorId (a token id, or null for none)`);
    }
    this.separatorId = sep;
  }

  /** Tokens held back until they fill a block. */
  get pendingTokens(): number {
    return this.pending.length;
  }

  /** Adds one document; returns the blocks it completed. */
  addText(text: string): Example[] {
    const ids = this.tokenizer.encode(text, { addSpecialTokens: this.addSpecialTokens });
    for (const id of ids) this.pending.push(id);
    if (this.separatorId !== null) this.pending.push(this.separatorId);
    const blocks: Example[] = [];
    let used = 0;
    for (; used + this.blockSize <= this.pending.length; used += this.blockSize) {
      const block = Int32Array.from(this.pending.slice(used, used + this.blockSize));
      blocks.push({ inputIds: block, labels: block.slice() });
    }
    this.pending = this.pending.slice(used);
    return blocks;
  }

  /** Adds a record's text field. */
  add(record: DataRecord): Example[] {
    return this.addText(getString(record, this.textField));
  }
}

/** Packs all records' texts; the incomplete last block is dropped. */
export function packRecords(tokenizer: Tokenizer, records: Iterable<DataRecord>, opts: PackOptions): Example[] {
  const packer = new CausalLmPacker(tokenizer, opts);
  const blocks: Example[] = [];
  for (const rec of records) blocks.push(...packer.add(rec));
  return blocks;
}
