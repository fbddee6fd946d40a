// A record read from a data file, with where it came from, and typed access to its fields: every
// missing or mistyped field is a DataError naming the file, the line and the field.
import type { ChatMessage } from '../../tokenizers/chat-template.js';
import { DataError } from './errors.js';

export interface DataRecord {
  data: Record<string, unknown>;
  /** The file (or the name given to in-memory data) and the 1-based line the record starts on. */
  file: string;
  line: number;
}

/** Records for in-memory objects: line n is the n-th object. */
export function fromObjects(objects: readonly Record<string, unknown>[], name = 'data'): DataRecord[] {
  return objects.map((data, i) => ({ data, file: name, line: i + 1 }));
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function fieldError(rec: DataRecord, field: string, expected: string): DataError {
  return field in rec.data
    ? new DataError(rec.file, rec.line, `field "${field}" must be ${expected}, got ${describe(rec.data[field])}`)
    : new DataError(rec.file, rec.line, `field "${field}" missing (expected ${expected})`);
}

export function hasField(rec: DataRecord, field: string): boolean {
  return rec.data[field] !== undefined && rec.data[field] !== null;
}

export function getString(rec: DataRecord, field: string): string {
  const v = rec.data[field];
  if (typeof v !== 'string') throw fieldError(rec, field, 'a string');
  return v;
}

export function getStringArray(rec: DataRecord, field: string): string[] {
  const v = rec.data[field];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw fieldError(rec, field, 'an array of strings');
  return v as string[];
}

/** Field "messages": a non-empty array of {role, content} with string values. */
export function getMessages(rec: DataRecord): ChatMessage[] {
  const msgs = rec.data['messages'];
  if (!Array.isArray(msgs) || msgs.length === 0) throw new DataError(rec.file, rec.line, `field "messages" must be a non-empty array of {role, content}, got ${describe(msgs)}`);
  msgs.forEach((m, i) => {
    const ok = m !== null && typeof m === 'object' && typeof (m as ChatMessage).role === 'string' && typeof (m as ChatMessage).content === 'string';
    if (!ok) throw new DataError(rec.file, rec.line, `field "messages": message ${i} must be {"role": string, "content": string}, got ${describe(m)}`);
  });
  return msgs as ChatMessage[];
}

/** A label: a string (mapped through a label list) or a non-negative integer. */
export type LabelValue = string | number;

export function isLabel(v: unknown): v is LabelValue {
  return typeof v === 'string' || (Number.isSafeInteger(v) && (v as number) >= 0);
}

export function getLabel(rec: DataRecord, field: string): LabelValue {
  const v = rec.data[field];
  if (!isLabel(v)) throw fieldError(rec, field, 'a string or a non-negative integer');
  return v;
}

export function getLabelArray(rec: DataRecord, field: string): LabelValue[] {
  const v = rec.data[field];
  if (!Array.isArray(v) || !v.every(isLabel)) throw fieldError(rec, field, 'an array of strings or non-negative integers');
  return v;
}

/** All items of a reader (Array.fromAsync for Node 20). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
