// Class labels ↔ ids. Built from the data as transformers' example scripts do (the sorted unique
// string labels), or from a list; integer labels are ids already. toConfig() gives config.json's
// id2label / label2id.
import { DataError } from './errors.js';
import { getLabel, getLabelArray, type DataRecord, type LabelValue } from './record.js';

/** Python's sort order for strings (by code point). */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export class LabelMap {
  private readonly ids: Map<string, number>;

  constructor(readonly names: readonly string[]) {
    this.ids = new Map(names.map((n, i) => [n, i]));
    if (this.ids.size !== names.length) throw new TypeError(`LabelMap: duplicate label names in ${JSON.stringify(names)}`);
  }

  /** The sorted unique string labels; for integer labels, names "0" … "max". */
  static fromValues(values: Iterable<LabelValue>): LabelMap {
    const strings = new Set<string>();
    let maxInt = -1;
    for (const v of values) {
      if (typeof v === 'string') strings.add(v);
      else maxInt = Math.max(maxInt, v);
    }
    if (strings.size > 0 && maxInt >= 0) throw new TypeError('LabelMap.fromValues: labels mix strings and integers');
    if (strings.size > 0) return new LabelMap([...strings].sort(byCodePoint));
    return new LabelMap(Array.from({ length: maxInt + 1 }, (_, i) => String(i)));
  }

  /** From a field of the records: a label per record, or (token classification) an array of them. */
  static fromRecords(records: Iterable<DataRecord>, field: string): LabelMap {
    const values: LabelValue[] = [];
    let kind: 'scalar' | 'array' | null = null;
    for (const rec of records) {
      kind ??= Array.isArray(rec.data[field]) ? 'array' : 'scalar';
      if (kind === 'array') values.push(...getLabelArray(rec, field));
      else values.push(getLabel(rec, field));
    }
    return LabelMap.fromValues(values);
  }

  /** From config.json's id2label ({"0": "ham", "1": "spam"}). */
  static fromConfig(config: { id2label: Record<string, string> }): LabelMap {
    const entries = Object.entries(config.id2label);
    const names = entries.map((_, i) => config.id2label[String(i)]);
    if (names.some((n) => typeof n !== 'string')) throw new TypeError(`LabelMap.fromConfig: id2label must map "0" … "${entries.length - 1}" to names`);
    return new LabelMap(names as string[]);
  }

  get size(): number {
    return this.names.length;
  }

  /** The id of a label: a string is looked up, an integer must be below size. */
  id(label: LabelValue, rec: DataRecord, field: string): number {
    const id = typeof label === 'string' ? this.ids.get(label) : label < this.size ? label : undefined;
    if (id === undefined) {
      const known = this.names.length <= 20 ? `: one of ${this.names.map((n) => JSON.stringify(n)).join(', ')}` : '';
      const what = typeof label === 'string' ? `the label ${JSON.stringify(label)}` : `the label id ${label}`;
      throw new DataError(rec.file, rec.line, `field "${field}": ${what} is not one of the ${this.size} labels${typeof label === 'string' ? known : ` (ids 0-${this.size - 1})`}`);
    }
    return id;
  }

  has(name: string): boolean {
    return this.ids.has(name);
  }

  /** config.json's id2label and label2id. */
  toConfig(): { id2label: Record<string, string>; label2id: Record<string, number> } {
    return {
      id2label: Object.fromEntries(this.names.map((n, i) => [String(i), n])),
      label2id: Object.fromEntries(this.names.map((n, i) => [n, i])),
    };
  }
}
