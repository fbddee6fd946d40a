// GNU gettext .mo catalogs: a header (magic 0x950412de in the file's byte order, revision, count,
// offsets of the original and translated string tables), then per table `count` (length, offset)
// pairs pointing at NUL-terminated UTF-8 strings. Entries with a context (ctxt \x04 msgid) or plural
// forms (msgid \0 msgid_plural) are reported as such.
import { readFileSync } from 'node:fs';

export interface MoEntry {
  msgid: string;
  msgstr: string;
  context: string | null;
  plural: boolean;
}

export function readMo(path: string): MoEntry[] {
  const buf = readFileSync(path);
  if (buf.length < 28) throw new Error(`${path}: too short for a .mo file`);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0x950412de;
  if (!le && magic !== 0xde120495) throw new Error(`${path}: not a .mo file (magic 0x${magic.toString(16)})`);
  const u32 = (at: number): number => {
    if (at + 4 > buf.length) throw new Error(`${path}: offset ${at} is past the end of the file`);
    return le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  };
  const count = u32(8);
  const originals = u32(12);
  const translations = u32(16);
  const str = (table: number, i: number): string => {
    const length = u32(table + 8 * i);
    const offset = u32(table + 8 * i + 4);
    if (offset + length > buf.length) throw new Error(`${path}: string ${i} runs past the end of the file`);
    return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(offset, offset + length));
  };
  const entries: MoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const key = str(originals, i);
    const ctx = key.indexOf('\u0004');
    const id = ctx >= 0 ? key.slice(ctx + 1) : key;
    entries.push({
      msgid: id.split('\u0000')[0]!,
      msgstr: str(translations, i).split('\u0000')[0]!,
      context: ctx >= 0 ? key.slice(0, ctx) : null,
      plural: id.includes('\u0000'),
    });
  }
  return entries;
}
