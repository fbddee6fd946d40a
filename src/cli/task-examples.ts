// Records → examples for each task, with the builders of src/train/data and the settings the
// options give: causal-lm packs {text} records into blocks (or renders chat records with the chat
// template), seq-cls and token-cls map labels through the LabelMap, qa cuts SQuAD records into
// context windows, seq2seq encodes {source, target}. Bad records raise the builders' DataError
// (file, line, field).
import { extname } from 'node:path';
import type { QaQuestion } from '../eval/tasks.js';
import type { RawConfig } from '../models/index.js';
import type { Tokenizer } from '../tokenizers/index.js';
import {
  buildChatExample, buildClassificationExample, buildQaFeaturesWithOffsets, buildSeq2SeqExample, buildTokenClassificationExample, collect, LabelMap, packRecords,
  readCsv, readJsonl, readTextDocuments, type DataRecord, type Example,
} from '../train/data/index.js';
import { CliError, type Options } from './args.js';
import type { Task, TaskName } from './tasks.js';

const READERS: Readonly<Record<string, { read: (path: string) => AsyncGenerator<DataRecord>; tasks: readonly TaskName[] }>> = {
  '.jsonl': { read: readJsonl, tasks: ['causal-lm', 'seq-cls', 'token-cls', 'qa', 'seq2seq'] },
  '.txt': { read: (path) => readTextDocuments(path), tasks: ['causal-lm'] },
  '.csv': { read: (path) => readCsv(path), tasks: ['seq-cls', 'seq2seq'] },
};

/** The records of a data file (`option` names it in errors); a file without records is an error. */
export async function readTaskRecords(task: Task, path: string, option: string): Promise<DataRecord[]> {
  const ext = extname(path).toLowerCase();
  const reader = READERS[ext];
  if (reader === undefined || !reader.tasks.includes(task.name)) {
    const usable = Object.entries(READERS).filter(([, r]) => r.tasks.includes(task.name)).map(([e]) => e);
    throw new CliError(`${option}: expected a ${usable.join(' or ')} file for --task ${task.name}, got ${path}`);
  }
  let records: DataRecord[];
  try {
    records = await collect(reader.read(path));
  } catch (err) {
    // A missing or unreadable file (ENOENT, EISDIR, EACCES); a bad record is the reader's DataError.
    if (typeof (err as NodeJS.ErrnoException).code === 'string') throw new CliError(`${option}: cannot read ${path}: ${(err as Error).message}`);
    throw err;
  }
  if (records.length === 0) throw new CliError(`${option}: ${path} holds no records`);
  return records;
}

/** The smallest of 512 (or `cap`), the tokenizer's model_max_length and the model's max_position_embeddings. */
function defaultLength(tokenizer: Tokenizer, raw: RawConfig, cap = 512): number {
  const limits = [cap, tokenizer.modelMaxLength, raw['max_position_embeddings']].filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  return Math.min(...limits);
}

/** The field holding a classification task's labels: --label-field (seq-cls) or --tags-field (token-cls). */
function labelFieldOf(task: Task, opts: Options): string {
  return task.name === 'token-cls' ? (opts.string('tags-field') ?? 'tags') : (opts.string('label-field') ?? 'label');
}

/** The label names of a classification task's records, sorted as transformers' example scripts sort them. */
export function labelsOfRecords(task: Task, opts: Options, records: readonly DataRecord[]): LabelMap {
  const field = labelFieldOf(task, opts);
  const labels = LabelMap.fromRecords(records, field);
  if (labels.size < 2) throw new CliError(`--task ${task.name} needs at least 2 labels in field "${field}" of ${records[0]!.file}, found ${labels.names.map((n) => JSON.stringify(n)).join(', ')}`);
  return labels;
}

export class TaskExamples {
  /** Tokens per example (causal-lm: per block). */
  readonly maxLength: number;
  private readonly labelField: string;

  constructor(
    readonly task: Task,
    private readonly tokenizer: Tokenizer,
    private readonly opts: Options,
    modelConfig: RawConfig,
  ) {
    const given = opts.positiveInteger(task.name === 'causal-lm' ? 'block-size' : 'max-length');
    this.maxLength = given ?? defaultLength(tokenizer, modelConfig, task.name === 'qa' ? 384 : 512);
    this.labelField = labelFieldOf(task, opts);
  }

  /** The examples of `records` (`labels`: for seq-cls and token-cls). */
  build(records: readonly DataRecord[], labels: LabelMap | null, source: string): Example[] {
    const { tokenizer, opts, maxLength } = this;
    const needLabels = (): LabelMap => {
      if (labels === null) throw new TypeError(`TaskExamples.build: --task ${this.task.name} needs the label names`);
      return labels;
    };
    switch (this.task.name) {
      case 'causal-lm': {
        const packed = records.every((r) => typeof r.data['text'] === 'string');
        const examples = packed ? packRecords(tokenizer, records, { blockSize: maxLength }) : records.map((r) => buildChatExample(tokenizer, r, { maxLength }));
        if (examples.length === 0) throw new CliError(`${source} has fewer than --block-size ${maxLength} tokens, so no block can be packed`);
        return examples;
      }
      case 'seq-cls': {
        const pair = opts.string('text-pair-field');
        return records.map((r) =>
          buildClassificationExample(tokenizer, r, { labels: needLabels(), textField: opts.string('text-field') ?? 'text', labelField: this.labelField, maxLength, ...(pair === undefined ? {} : { textPairField: pair }) }),
        );
      }
      case 'token-cls':
        return records.map((r) =>
          buildTokenClassificationExample(tokenizer, r, { labels: needLabels(), tokensField: opts.string('tokens-field') ?? 'tokens', tagsField: this.labelField, labelAllTokens: opts.boolean('label-all-tokens') ?? false, maxLength }),
        );
      case 'qa':
        return this.qaQuestions(records).flatMap((q) => q.features.map((f) => f.example));
      case 'seq2seq':
        return records.map((r) => buildSeq2SeqExample(tokenizer, r, this.seq2seqOptions()));
    }
  }

  /** SQuAD records as questions: context windows with offsets, and the gold answer texts. */
  qaQuestions(records: readonly DataRecord[]): QaQuestion[] {
    const docStride = this.opts.number('doc-stride') ?? Math.floor(this.maxLength / 3);
    if (!(Number.isInteger(docStride) && docStride >= 0)) throw new CliError(`--doc-stride must be a non-negative integer, got ${docStride}`);
    return records.map((r) => {
      const features = buildQaFeaturesWithOffsets(this.tokenizer, r, { maxLength: this.maxLength, docStride });
      return { context: r.data['context'] as string, answers: (r.data['answers'] as { text: string[] }).text, features };
    });
  }

  /** The seq2seq targets, for comparing generations with. */
  targets(records: readonly DataRecord[]): string[] {
    const field = this.opts.string('target-field') ?? 'target';
    return records.map((r) => r.data[field] as string);
  }

  private seq2seqOptions(): Parameters<typeof buildSeq2SeqExample>[2] {
    const prefix = this.opts.string('source-prefix');
    return {
      sourceField: this.opts.string('source-field') ?? 'source',
      targetField: this.opts.string('target-field') ?? 'target',
      maxSourceLength: this.maxLength,
      maxTargetLength: this.opts.positiveInteger('max-target-length') ?? this.maxLength,
      ...(prefix === undefined ? {} : { prefix }),
    };
  }
}
