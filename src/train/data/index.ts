// Training data: readers (JSONL, CSV, plain text) with line-numbered errors, per-task example
// builders producing int32 token arrays, padding collators into engine tensors, seeded resumable
// data order and a train/validation split.
export { DataError } from './errors.js';
export { fromObjects, collect, getMessages, getString, getStringArray, getLabel, getLabelArray } from './record.js';
export type { DataRecord, LabelValue } from './record.js';
export { readLines } from './lines.js';
export type { Line } from './lines.js';
export { readJsonl } from './jsonl.js';
export { readCsv } from './csv.js';
export type { CsvOptions } from './csv.js';
export { readTextDocuments } from './text.js';
export type { TextReadOptions } from './text.js';
export { LabelMap } from './label-map.js';
export { IGNORE_INDEX } from './example.js';
export type { Example } from './example.js';
export { CausalLmPacker, packRecords } from './causal-lm.js';
export type { PackOptions } from './causal-lm.js';
export { buildChatExample } from './chat.js';
export type { ChatExampleOptions } from './chat.js';
export { buildClassificationExample } from './classification.js';
export type { ClassificationOptions } from './classification.js';
export { buildTokenClassificationExample } from './token-classification.js';
export type { TokenClassificationOptions } from './token-classification.js';
export { buildQaFeatures, buildQaFeaturesWithOffsets } from './qa.js';
export type { QaFeature, QaOptions } from './qa.js';
export { buildSeq2SeqExample } from './seq2seq.js';
export type { Seq2SeqOptions } from './seq2seq.js';
export { collate, dataCollator } from './collate.js';
export type { Batch, CollateOptions } from './collate.js';
export { permutation } from './shuffle.js';
export { DataLoader } from './loader.js';
export type { LoadedBatch, LoaderOptions, LoaderState } from './loader.js';
export { splitTrainValidation } from './split.js';
export type { SplitOptions } from './split.js';
